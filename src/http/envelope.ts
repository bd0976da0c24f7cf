/** The wire envelope: every JSON response has exactly ok, data and error (written by src/fast/json-writer.ts). */
import type { Response } from 'express';
import fresh from 'fresh';
import type { DeflatedPiece } from '../fast/gzip-pieces.js';
import { piecesAccepted, sendJsonPieces, sendJsonText } from '../fast/json-writer.js';

export interface Envelope<T = unknown> {
  ok: boolean;
  data: T | null;
  error: unknown;
}

export const success = <T>(data: T): Envelope<T> => ({ ok: true, data, error: null });
export const failure = (error: unknown, data: unknown = null): Envelope => ({ ok: false, data, error });

export function sendEnvelope(res: Response, status: number, envelope: Envelope): void {
  sendJsonText(res, status, JSON.stringify(envelope));
}

export function sendSuccess(res: Response, status: number, data: unknown): void {
  sendJsonText(res, status, JSON.stringify(success(data)));
}

/**
 * The success envelope around `dataJson`, data already serialized (cached responses built
 * from serialized parts): the same bytes `sendSuccess` sends for the parsed value. `weakEtag`,
 * when given, is a weak ETag of the whole text that the caller derives cheaper than hashing it
 * (it must change whenever the text does).
 */
export function sendSuccessJson(res: Response, status: number, dataJson: string, weakEtag?: string): void {
  sendJsonText(res, status, `{"ok":true,"data":${dataJson},"error":null}`, weakEtag);
}

/**
 * A polled answer whose ETag the caller derived without the body (services/poll-etags.ts):
 * a GET or HEAD whose If-None-Match names it gets 304 and `build` never runs; otherwise the
 * body `build` returns is sent with that ETag.
 */
export function sendVersioned(res: Response, etag: string, build: () => Promise<unknown> | unknown): Promise<void> {
  return sendVersionedJson(res, etag, async () => JSON.stringify(await build()));
}

/**
 * sendVersioned for a body `build` returns serialized (the `data` of the envelope).
 * `pieces`, when given, may instead return the whole envelope as deflated pieces (or null),
 * sent gzip-coded, or inflated to a client that takes no coding; asked only for a GET that
 * accepts gzip or no coding (one that takes brotli only gets the text built and coded whole).
 */
export async function sendVersionedJson(res: Response, etag: string, build: () => Promise<string>, pieces?: () => Promise<DeflatedPiece[] | null>): Promise<void> {
  const { method, headers } = res.req;
  if ((method === 'GET' || method === 'HEAD') && fresh(headers, { etag })) {
    res.statusCode = 304;
    res.setHeader('ETag', etag);
    res.end();
    return;
  }
  if (pieces && method === 'GET' && piecesAccepted(headers)) {
    const deflated = await pieces();
    if (deflated) return sendJsonPieces(res, deflated, etag);
  }
  sendSuccessJson(res, 200, await build(), etag);
}
