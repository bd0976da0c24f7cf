/**
 * One error type for the whole API, thrown by any layer and answered by the framework's
 * error handler as the envelope. Anything thrown that is not an AppError becomes a 500
 * "Internal server error" (details go to the log, never to the client).
 */
export type FieldErrors = { [field: string]: string[] | FieldErrors };

export class AppError extends Error {
  constructor(
    readonly status: number,
    /** A message string, or DRF-style field errors `{field: [messages]}`. */
    readonly error: string | FieldErrors,
    /** Extra payload carried in `data` (send-message keeps the saved user message there). */
    readonly data: unknown = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof error === 'string' ? error : JSON.stringify(error));
    this.name = 'AppError';
  }
}

/**
 * RFC 6750 §3: a request that sent no bearer credentials gets the bare challenge; one whose
 * token was refused gets `error` and a description, so a client can tell "expired: refresh"
 * from "invalid: sign in again".
 */
export interface BearerError {
  error: 'invalid_token' | 'invalid_request';
  /** Printable ASCII without quotes or backslashes (RFC 6750 §3). */
  description: string;
}

const challenge = (detail?: BearerError) =>
  detail ? `Bearer realm="api", error="${detail.error}", error_description="${detail.description}"` : 'Bearer realm="api"';

export const badRequest = (error: string | FieldErrors, data: unknown = null) => new AppError(400, error, data);
export const unauthorized = (message: string, detail?: BearerError) =>
  new AppError(401, message, null, { 'WWW-Authenticate': challenge(detail) });
export const forbidden = (message = 'Access denied') => new AppError(403, message);
export const notFound = (message = 'Not found') => new AppError(404, message);
export const payloadTooLarge = (message = 'Request body too large') => new AppError(413, message);
