/**
 * Vendor failures normalised into what send-message answers (D11): rate limits → 429,
 * timeouts → 504, anything else from the vendor → 502. Texts never carry the API key.
 */
export type ProviderFailure = 'rate_limit' | 'timeout' | 'aborted' | 'upstream';

export class ProviderError extends Error {
  constructor(
    readonly kind: ProviderFailure,
    message: string,
    /** Text received before the failure (streaming). */
    readonly partial = '',
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

type SdkError = { status?: number; name?: string; message?: string; error?: unknown; cause?: unknown };

/** SDK timeout errors keep `name` "Error"; their class name tells them apart. */
const isTimeout = (e: SdkError | undefined) => /Timeout/i.test(`${e?.name ?? ''} ${e?.constructor?.name ?? ''}`);

/** The vendor's own message: `error.message` in the body, else the SDK's text, cut to 200 characters. */
export function vendorMessage(error: unknown): string {
  const e = error as SdkError;
  const body = e?.error as { message?: unknown; error?: { message?: unknown } } | undefined;
  const fromBody = typeof body?.error?.message === 'string' ? body.error.message : typeof body?.message === 'string' ? body.message : null;
  const text = fromBody ?? (typeof e?.message === 'string' && e.message ? e.message : String(error));
  return text.slice(0, 200);
}

const RATE_LIMITED = /rate.?limit|\b429\b/i;

/**
 * Classifies an SDK error. `timedOut` / `cancelled` tell whether our own deadline or the
 * client's disconnect fired, since every SDK reports both as a plain abort.
 */
export function toProviderError(error: unknown, state: { timedOut: boolean; cancelled: boolean }, partial = ''): ProviderError {
  if (error instanceof ProviderError) return error;
  if (state.timedOut) return new ProviderError('timeout', 'Request timeout', partial);
  if (state.cancelled) return new ProviderError('aborted', 'Client disconnected', partial);
  const e = error as SdkError;
  if (isTimeout(e)) return new ProviderError('timeout', 'Request timeout', partial);
  const message = vendorMessage(error);
  if (e?.status === 429 || RATE_LIMITED.test(message)) return new ProviderError('rate_limit', message, partial);
  return new ProviderError('upstream', message, partial);
}

/** §5.8 texts for a failed connection test. */
export function connectionTestError(error: unknown, timedOut: boolean, invalidKeyStatuses: number[] = [401]): string {
  const e = error as SdkError;
  if (timedOut || isTimeout(e)) return 'Connection timeout - API did not respond in time';
  if (typeof e?.status === 'number') return invalidKeyStatuses.includes(e.status) ? 'Invalid API key' : `API returned status ${e.status}`;
  if (/Connection|fetch failed|ECONNREFUSED|ENOTFOUND/i.test(`${e?.name} ${e?.message}`)) return 'Connection error - unable to reach API';
  return `Request failed: ${vendorMessage(error)}`;
}

/**
 * A vendor may echo the key in its error text, in any letter case: every occurrence is
 * replaced before the text reaches a client, the log or the database. Keys shorter than
 * 6 characters are left alone (they would match ordinary words).
 */
export function scrubKey(text: string, apiKey: string): string {
  if (apiKey.length < 6) return text;
  return text.replace(new RegExp(apiKey.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), '***');
}
