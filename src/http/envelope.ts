import type { Response } from 'express';

/** The wire envelope: every JSON response has exactly ok, data and error. */
export interface Envelope<T = unknown> {
  ok: boolean;
  data: T | null;
  error: unknown;
}

export const success = <T>(data: T): Envelope<T> => ({ ok: true, data, error: null });
export const failure = (error: unknown, data: unknown = null): Envelope => ({ ok: false, data, error });

export function sendSuccess(res: Response, status: number, data: unknown): void {
  res.status(status).json(success(data));
}

/**
 * The success envelope around `dataJson`, data already serialized (cached responses built
 * from serialized parts): the same bytes `sendSuccess` sends for the parsed value. An
 * `etag` given here (it must change whenever the body does) saves hashing the body; a
 * matching If-None-Match still gets 304.
 */
export function sendSuccessJson(res: Response, status: number, dataJson: string, etag?: string): void {
  if (etag) res.setHeader('ETag', etag);
  res.status(status).type('application/json').send(`{"ok":true,"data":${dataJson},"error":null}`);
}
