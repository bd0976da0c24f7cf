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
 * Beyond res.json, it compresses bodies of 1 kB or more when the request accepts brotli or
 * gzip (see COMPRESS_MIN_BYTES below, where the choice over the `compression` middleware is
 * explained).
 *
 * Pinned by: tests/unit/http-fast.test.ts "the JSON writer" (the same status, headers and
 * body as res.json for GET, POST, HEAD and conditional requests, under every `etag` setting,
 * uncompressed; "compression": codings, lengths, Vary and ETags of compressed answers).
 *
 * Remove when: res.json costs about as much (the bench shows no difference with
 * res.status(status).json(envelope) in sendEnvelope and sendSuccess).
 */
import * as crypto from 'node:crypto';
import * as zlib from 'node:zlib';
import type { Response } from 'express';
import fresh from 'fresh';
import { type DeflatedPiece, gzipOf, inflatePiece } from './gzip-pieces.js';

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
  if (text.length >= COMPRESS_MIN_BYTES && method !== 'HEAD') {
    res.setHeader('Vary', appendVary(res.getHeader('Vary'), 'Accept-Encoding'));
    const coding = codingFor(res.req.headers['accept-encoding']);
    if (coding) return sendCompressed(res, text, coding);
  }
  res.setHeader('Content-Length', Buffer.byteLength(text, 'utf8'));
  res.end(text);
}

/**
 * Compression of JSON bodies (issue 21: the polled lists are whole by default and grow with
 * the memory bank). A body of at least COMPRESS_MIN_BYTES goes out brotli- or gzip-coded when
 * the request accepts one; smaller ones, HEAD answers, 304s, SSE streams and downloads (which
 * never pass through here) go out as they are. The whole text is at hand, so the level follows
 * its size: up to 256 kB the usual levels (brotli 4, gzip 6: a few ms at most); beyond, the
 * fastest (brotli 1, gzip 1), which on a 44 MB list (50,000 memories) code it in a fraction
 * of the time at a ratio within 5 to 15 % of the slow levels (measured on the list bench's
 * corpus: gzip 1 10.3 MB against gzip 6 8.9 MB in a quarter of the time; brotli 1 9.4 MB
 * against brotli 4 8.7 MB in a sixth). Compression runs on libuv's thread pool, not the loop;
 * the Content-Length of the coded body is sent.
 *
 * Why here rather than the `compression` middleware: the writer holds the whole text, so it
 * picks the level by size and sends the coded body's Content-Length, and answers under 1 kB
 * (most of them) pay nothing, where the middleware wraps res.write/end and hooks the headers
 * of every response; SSE streams and downloads, which bypass the writer, stay uncoded without
 * a filter.
 *
 * ETags: the ETags sent here are weak unless the app's `etag` setting is 'strong' or a
 * function. A weak ETag may name every content-coding of the same data (RFC 9110 §8.8.1); a
 * strong one may not (§8.8.3), so a strong ETag of a compressed body is sent weak. Requests
 * validate with If-None-Match, whose comparison is weak: either form answers 304.
 */
export const COMPRESS_MIN_BYTES = 1024;
const LARGE_BODY_BYTES = 256 * 1024;

type Coding = 'br' | 'gzip';

/** The preferred coding the Accept-Encoding header allows (brotli first on a tie), or null. */
export function codingFor(header: string | string[] | undefined): Coding | null {
  const { br, gzip } = weights(header);
  if (br <= 0 && gzip <= 0) return null;
  return br >= gzip ? 'br' : 'gzip';
}

/** Whether the Accept-Encoding header allows gzip. */
const acceptsGzip = (header: string | string[] | undefined): boolean => weights(header).gzip > 0;

/** The q-values Accept-Encoding gives brotli and gzip (-1: not named, nor `*`). */
function weights(header: string | string[] | undefined): { br: number; gzip: number } {
  if (!header) return { br: -1, gzip: -1 };
  let br = -1;
  let gzip = -1;
  let star = -1;
  for (const part of (Array.isArray(header) ? header.join(',') : header).split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const weight = q ? Number(q.slice(2)) : 1;
    if (!Number.isFinite(weight)) continue;
    if (name === 'br') br = weight;
    else if (name === 'gzip' || name === 'x-gzip') gzip = Math.max(gzip, weight);
    else if (name === '*') star = weight;
  }
  if (br < 0) br = star;
  if (gzip < 0) gzip = star;
  return { br, gzip };
}

function appendVary(current: number | string | string[] | undefined, field: string): string {
  const fields = current === undefined ? [] : String(current).split(',').map((f) => f.trim()).filter(Boolean);
  if (fields.some((f) => f === '*' || f.toLowerCase() === field.toLowerCase())) return fields.join(', ');
  return [...fields, field].join(', ');
}

function compress(body: Buffer, coding: Coding, callback: (error: Error | null, result: Buffer) => void): void {
  const large = body.length > LARGE_BODY_BYTES;
  if (coding === 'br') {
    const params = { [zlib.constants.BROTLI_PARAM_QUALITY]: large ? 1 : 4, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length, [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT };
    zlib.brotliCompress(body, { params }, callback);
  } else {
    zlib.gzip(body, { level: large ? 1 : 6 }, callback);
  }
}

/**
 * Whether sendJsonPieces can answer this request: one that accepts gzip or no coding at all.
 * One that takes brotli only gets the text built and coded whole (sendJsonText).
 */
export function piecesAccepted(headers: { 'accept-encoding'?: string | string[] }): boolean {
  const accepted = headers['accept-encoding'];
  return acceptsGzip(accepted) || codingFor(accepted) === null;
}

/**
 * Sends a 200 whose JSON body comes as deflated pieces (the whole memory list,
 * services/memories/list-pieces.ts), with the caller's weak ETag, after the caller's own 304
 * check and piecesAccepted: gzip-coded as one member around the pieces, or, to a client that
 * takes no coding, the pieces inflated one at a time (on libuv's pool) and written as they
 * come, so the whole text is never held.
 */
export async function sendJsonPieces(res: Response, pieces: DeflatedPiece[], weak: string): Promise<void> {
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('ETag', weak);
  res.setHeader('Vary', appendVary(res.getHeader('Vary'), 'Accept-Encoding'));
  if (acceptsGzip(res.req.headers['accept-encoding'])) {
    const parts = gzipOf(pieces);
    res.setHeader('Content-Encoding', 'gzip');
    res.setHeader('Content-Length', parts.reduce((n, p) => n + p.length, 0));
    // Corked, the parts leave in one writev.
    res.cork();
    for (const part of parts) res.write(part);
    res.uncork();
    res.end();
    return;
  }
  res.setHeader('Content-Length', pieces.reduce((n, p) => n + p.length, 0));
  for (const piece of pieces) {
    if (res.destroyed) return;
    if (!res.write(await inflatePiece(piece))) await new Promise((resolve) => { res.once('drain', resolve); res.once('close', resolve); });
  }
  res.end();
}

function sendCompressed(res: Response, text: string, coding: Coding): void {
  const body = Buffer.from(text, 'utf8');
  compress(body, coding, (error, coded) => {
    if (res.writableEnded || res.destroyed) return;
    if (error) {
      res.setHeader('Content-Length', body.length);
      res.end(body);
      return;
    }
    const etag = res.getHeader('ETag');
    if (typeof etag === 'string' && !etag.startsWith('W/')) res.setHeader('ETag', `W/${etag}`);
    res.setHeader('Content-Encoding', coding);
    res.setHeader('Content-Length', coded.length);
    res.end(coded);
  });
}
