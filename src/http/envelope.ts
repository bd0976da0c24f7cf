/**
 * The wire envelope and the one writer of JSON responses. The writer sends exactly what
 * Express's res.json would (Content-Type, the weak ETag of the `etag` package, 304 on a
 * matching If-None-Match for GET/HEAD, Content-Length) without res.json's and res.send's
 * generic paths (content-type negotiation, charset parsing, Buffer conversion): a JSON
 * response is written by every request.
 */
import * as crypto from 'node:crypto';
import type { Response } from 'express';
import fresh from 'fresh';

/** The wire envelope: every JSON response has exactly ok, data and error. */
export interface Envelope<T = unknown> {
  ok: boolean;
  data: T | null;
  error: unknown;
}

export const success = <T>(data: T): Envelope<T> => ({ ok: true, data, error: null });
export const failure = (error: unknown, data: unknown = null): Envelope => ({ ok: false, data, error });

// crypto.hash (one-shot, Node ≥ 20.12) costs a third of createHash().update().digest().
const oneShot = (crypto as unknown as { hash?: (algorithm: string, data: string, encoding: 'base64') => string }).hash;
const sha1Base64 = oneShot ? (text: string) => oneShot('sha1', text, 'base64') : (text: string) => crypto.createHash('sha1').update(text, 'utf8').digest('base64');

/** Express's weak ETag of a text (the `etag` package's format): W/"<byte length, hex>-<SHA-1, base64, 27 chars>". */
export function weakEtag(text: string): string {
  return `W/"${Buffer.byteLength(text, 'utf8').toString(16)}-${sha1Base64(text).slice(0, 27)}"`;
}

/** Sends a JSON text with `status`; `etag`, when given, must change whenever the text does (it saves hashing it). */
export function sendJsonText(res: Response, status: number, text: string, etag?: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  if (!res.hasHeader('ETag')) res.setHeader('ETag', etag ?? weakEtag(text));
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

export function sendEnvelope(res: Response, status: number, envelope: Envelope): void {
  sendJsonText(res, status, JSON.stringify(envelope));
}

export function sendSuccess(res: Response, status: number, data: unknown): void {
  sendJsonText(res, status, JSON.stringify(success(data)));
}

/**
 * The success envelope around `dataJson`, data already serialized (cached responses built
 * from serialized parts): the same bytes `sendSuccess` sends for the parsed value.
 */
export function sendSuccessJson(res: Response, status: number, dataJson: string, etag?: string): void {
  sendJsonText(res, status, `{"ok":true,"data":${dataJson},"error":null}`, etag);
}
