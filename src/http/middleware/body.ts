/** JSON and form bodies up to the limit (each parser skips a request without a body or of another type). */
import express, { type Request, type RequestHandler } from 'express';
import { AppError } from '../../lib/errors.js';

const JSON_TYPES = ['application/json', 'application/*+json'];
const FORM_TYPE = 'application/x-www-form-urlencoded';
/** What a JSON route reads: JSON (the frontend) and forms (the original server's parsers took both). */
const JSON_ROUTE_TYPES = [...JSON_TYPES, FORM_TYPE];

export function parseBody(limit: string | number): RequestHandler {
  const json = express.json({ limit, strict: false, type: JSON_TYPES });
  const form = express.urlencoded({ limit, extended: false, type: FORM_TYPE });
  return (req, res, next) => {
    const done = (error?: unknown) => next(error ? bodyError(req, error) : undefined);
    json(req, res, (error?: unknown) => (error ? done(error) : form(req, res, done)));
  };
}

/**
 * body-parser tags its own failures with a `type`; an untyped 400 is the decompression stream
 * failing (zlib or brotli, whose error codes vary by failure), i.e. a body that is not the
 * encoding its Content-Encoding claims.
 */
function bodyError(req: Request, error: unknown): unknown {
  const e = error as { type?: unknown; status?: unknown };
  const encoded = (req.headers['content-encoding'] ?? 'identity').toLowerCase() !== 'identity';
  if (encoded && e?.type === undefined && e?.status === 400) return new AppError(400, 'Malformed compressed request body');
  return error;
}

/**
 * The 415 for a JSON route whose non-empty body is of a type no parser read (text/plain, XML,
 * multipart, none): left alone it would count as {} and get field errors, or change nothing.
 * An empty body is no body whatever its Content-Type (D1).
 */
export function unsupportedMediaType(req: Request): AppError | null {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length']) > 0;
  if (!hasBody || req.is(JSON_ROUTE_TYPES)) return null;
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase().slice(0, 100);
  return new AppError(415, type ? `Unsupported media type "${type}": send application/json` : 'Missing Content-Type: send application/json');
}
