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
