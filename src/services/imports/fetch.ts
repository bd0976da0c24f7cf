/**
 * Fetches a user-supplied URL safely (D15): every hop (the first URL and each redirect) is
 * vetted by the SSRF guard and the socket is pinned to the vetted address; at most
 * `maxRedirects` hops; one deadline for the whole exchange; the body is capped while it
 * streams; only the content types we can extract are accepted.
 */
import { checkFetchUrl, type GuardOptions, pinnedLookup, vetUrl } from '../../lib/ssrf.js';

/** undici, loaded by the first URL import: a server that never fetches a page never loads it. */
let undici: Promise<typeof import('undici')> | null = null;
const loadUndici = () => (undici ??= import('undici'));

export class FetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FetchError';
  }
}

export const TIMED_OUT = 'Request timed out';

export const ACCEPTED_TYPES = ['text/html', 'text/plain', 'application/xhtml+xml', 'application/pdf'] as const;
export type AcceptedType = (typeof ACCEPTED_TYPES)[number];

export interface FetchLimits extends GuardOptions {
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
}

export interface FetchedDocument {
  /** The URL the body came from (after redirects). */
  finalUrl: URL;
  contentType: AcceptedType;
  /** The charset parameter of Content-Type, when given. */
  charset: string | null;
  body: Buffer;
}

const USER_AGENT = 'Mozilla/5.0 (compatible; ChimeraImporter/1.0)';
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function parseContentType(header: string | string[] | undefined): { type: string; charset: string | null } {
  const value = (Array.isArray(header) ? header[0] : header) ?? '';
  const [type = '', ...params] = value.split(';').map((s) => s.trim());
  const charset = params.find((p) => /^charset=/i.test(p))?.slice(8).replace(/"/g, '') ?? null;
  return { type: type.toLowerCase(), charset };
}

export async function safeFetch(input: URL, limits: FetchLimits): Promise<FetchedDocument> {
  const controller = new AbortController();
  const deadline = setTimeout(() => controller.abort(), limits.timeoutMs);
  try {
    return await followRedirects(input, limits, controller.signal);
  } catch (error) {
    if (controller.signal.aborted) throw new FetchError(TIMED_OUT);
    throw error;
  } finally {
    clearTimeout(deadline);
  }
}

async function followRedirects(input: URL, limits: FetchLimits, signal: AbortSignal): Promise<FetchedDocument> {
  let url = input;
  for (let hop = 0; ; hop++) {
    const target = await vetUrl(url, limits);
    const { Agent, request } = await loadUndici();
    const agent = new Agent({ connect: { lookup: pinnedLookup(target) as never }, pipelining: 0 });
    try {
      const response = await request(target.url, {
        method: 'GET',
        dispatcher: agent,
        signal,
        headers: { 'user-agent': USER_AGENT, accept: 'text/html,application/xhtml+xml,text/plain,application/pdf;q=0.9,*/*;q=0.1' },
      });
      if (REDIRECTS.has(response.statusCode)) {
        discard(response.body);
        const location = response.headers.location;
        if (!location || Array.isArray(location)) throw new FetchError(`Request failed: redirect without a location (HTTP ${response.statusCode})`);
        if (hop >= limits.maxRedirects) throw new FetchError(`Too many redirects (more than ${limits.maxRedirects})`);
        try {
          url = new URL(location, target.url);
        } catch {
          throw new FetchError('Request failed: invalid redirect location');
        }
        checkFetchUrl(url);
        continue;
      }
      if (response.statusCode < 200 || response.statusCode >= 300) {
        discard(response.body);
        throw new FetchError(`Request failed: HTTP ${response.statusCode}`);
      }
      const { type, charset } = parseContentType(response.headers['content-type']);
      if (!(ACCEPTED_TYPES as readonly string[]).includes(type)) {
        discard(response.body);
        throw new FetchError(`Unsupported content type: ${type || 'unknown'}. Supported: ${ACCEPTED_TYPES.join(', ')}`);
      }
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > limits.maxBytes) {
        discard(response.body);
        throw new FetchError(tooLarge(limits.maxBytes));
      }
      const body = await readCapped(response.body, limits.maxBytes);
      return { finalUrl: target.url, contentType: type as AcceptedType, charset, body };
    } finally {
      void agent.close().catch(() => undefined);
    }
  }
}

/** Drops a response body we will not read; the abort error it then emits is expected. */
function discard(body: { on(event: 'error', listener: () => void): unknown; destroy(): void }) {
  body.on('error', () => undefined);
  body.destroy();
}

const tooLarge = (max: number) => `Content too large (limit ${Math.round(max / 1024 / 1024)} MB)`;

async function readCapped(body: AsyncIterable<Buffer> & Parameters<typeof discard>[0], maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > maxBytes) {
      discard(body);
      throw new FetchError(tooLarge(maxBytes));
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}
