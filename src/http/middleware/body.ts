/**
 * JSON and form bodies up to the limit. A request without a body (no Content-Length, no
 * Transfer-Encoding: every GET) skips both parsers in one check, as each parser would.
 */
import express, { type RequestHandler } from 'express';

export function parseBody(limit: string | number): RequestHandler {
  const json = express.json({ limit, strict: false, type: ['application/json', 'application/*+json'] });
  const form = express.urlencoded({ limit, extended: false });
  return (req, res, next) => {
    // type-is's hasBody, the parsers' own test
    if (req.headers['transfer-encoding'] === undefined && Number.isNaN(Number(req.headers['content-length']))) {
      if (!('body' in req)) (req as { body?: unknown }).body = undefined;
      return next();
    }
    json(req, res, (error?: unknown) => (error ? next(error) : form(req, res, next)));
  };
}
