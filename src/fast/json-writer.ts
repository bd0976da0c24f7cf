/**
 * Speed layer: the writer of every JSON response.
 *
 * Replaces: Express's res.json → res.send for a JSON text. It sends exactly what they send
 * (status, Content-Type, Content-Length, the ETag of the app's `etag` setting, 304 on a
 * matching If-None-Match for GET/HEAD with the body headers removed, no body for HEAD) without
 * res.set's and res.send's generic paths (MIME lookup, charset parsing, the Buffer copy of
 * the text, a streaming SHA-1): every request writes one. The `etag` setting is honoured:
 * 'weak' (Express's default) is computed here with a one-shot hash, anything else through
 * the function Express compiled from it; `false` sends none.
 *
 * Gain: the profile route's server CPU is 100 µs per request with it and 113 µs with
 * res.json (0.68× against 0.55× the bare baseline's throughput; earlier runs: 98 against 105,
 * 100 against 105 µs). Measured with the foundation bench's load (GET /api/auth/profile,
 * PostgreSQL, 32 connections), both builds in the same run, 5 interleaved rounds, 2026-12-05.
 * To measure it again, send with res.status(status).json(envelope) in http/envelope.ts and
 * run `npm run bench foundation` on both builds.
 *
 * Pinned by: tests/unit/http-fast.test.ts "the JSON writer" (the same status, headers and
 * body as res.json for GET, POST, HEAD and conditional requests, under every `etag` setting).
 *
 * Remove when: res.json costs about as much (the bench shows no difference with
 * res.status(status).json(envelope) in sendEnvelope and sendSuccess).
 */
import * as crypto from 'node:crypto';
import type { Response } from 'express';
import fresh from 'fresh';

// crypto.hash (one-shot, Node ≥ 20.12) costs a third of createHash().update().digest().
const oneShot = (crypto as unknown as { hash?: (algorithm: string, data: string, encoding: 'base64') => string }).hash;
const sha1Base64 = oneShot ? (text: string) => oneShot('sha1', text, 'base64') : (text: string) => crypto.createHash('sha1').update(text, 'utf8').digest('base64');

/** Express's weak ETag of a text (the `etag` package's format): W/"<byte length, hex>-<SHA-1, base64, 27 chars>". */
export function weakEtag(text: string): string {
  return `W/"${Buffer.byteLength(text, 'utf8').toString(16)}-${sha1Base64(text).slice(0, 27)}"`;
}

type EtagFunction = (body: Buffer, encoding?: BufferEncoding) => string | undefined;

/** The ETag res.send would send for `text` under the app's `etag` setting; `weak`, when given, is that text's weak ETag. */
function etagOf(res: Response, text: string, weak: string | undefined): string | undefined {
  const setting: unknown = res.app.get('etag');
  if (setting === 'weak' || setting === true) return weak ?? weakEtag(text);
  const compiled = res.app.get('etag fn') as EtagFunction | undefined;
  return compiled ? compiled(Buffer.from(text, 'utf8')) : undefined;
}

/**
 * Sends a JSON text with `status`. `weak`, when given, is the text's weak ETag computed by the
 * caller (it must change whenever the text does; it saves hashing a long text).
 */
export function sendJsonText(res: Response, status: number, text: string, weak?: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  if (!res.hasHeader('ETag')) {
    const etag = etagOf(res, text, weak);
    if (etag) res.setHeader('ETag', etag);
  }
  const { method, headers } = res.req;
  if ((method === 'GET' || method === 'HEAD') && status >= 200 && status < 300 && fresh(headers, { etag: res.getHeader('ETag'), 'last-modified': res.getHeader('Last-Modified') })) {
    res.statusCode = 304;
    res.removeHeader('Content-Type');
    res.end();
    return;
  }
  res.setHeader('Content-Length', Buffer.byteLength(text, 'utf8'));
  res.end(text);
}
