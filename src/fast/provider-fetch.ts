/**
 * Speed layer: the `fetch` the provider SDKs (openai, @anthropic-ai/sdk) call, over undici's
 * request API and one keep-alive pool.
 *
 * Replaces: global fetch for the SDKs' calls. WHATWG fetch does a lot per call that an SDK
 * talking JSON or SSE to a fixed vendor URL never uses (request cloning and normalisation, the
 * fetch algorithm's redirect and CORS steps). Bodies other than text or bytes (none of the chat
 * calls sends one) go to global fetch. Vendor APIs answer without redirects, and none is
 * followed; the Response's statusText is empty (no SDK reads it).
 *
 * Gain: the API server's CPU per chat message is 1.62–1.65 ms with it and 1.82–1.84 ms with
 * global fetch for a JSON reply, 1.79–1.91 against 1.98–2.14 ms streaming (32 connections at
 * 130 messages/s; one connection: 1.31–1.72 against 1.57–1.92 ms), lower in every round. The
 * added latency shows no difference above the noise: p50 +3.7–8.2 against +2.6–3.9 ms (JSON),
 * +2.3–3.6 against +2.2–3.7 ms (first delta). Measured with `BENCH_CHAT_RATE=130 npm run bench
 * chat`, the two builds alternating over 3 rounds each on a shared 2-core machine, 2026-12-06.
 * To measure it again, pass `fetch: globalThis.fetch` instead of providerFetch in
 * services/providers/openai-compatible.ts and anthropic.ts and run the chat bench on both builds.
 *
 * Pinned by: tests/unit/provider-fetch.test.ts (against one local server, the same status,
 * headers and bodies as global fetch: JSON, text, an SSE stream read as it arrives, 204/304,
 * POST with a JSON string and with bytes; an abort and a refused connection reject alike).
 *
 * Remove when: global fetch costs about as much per message (the chat bench shows no
 * difference in the API's CPU per message), or an SDK starts relying on what this adapter
 * leaves out (redirects, Request objects, statusText: the pinning test then needs more).
 */
import { Readable } from 'node:stream';
import type { Agent } from 'undici';

/** undici and its connection pool, set up by the first provider call (an idle server never loads undici). */
let undici: { request: typeof import('undici').request; pool: Agent } | null = null;
async function loadUndici() {
  const { Agent, request } = await import('undici');
  return (undici ??= { request, pool: new Agent({ keepAliveTimeout: 30_000 }) });
}

/** Statuses whose responses have no body (the Response constructor refuses one). */
const NULL_BODY = new Set([101, 204, 205, 304]);

export async function providerFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  const body = init.body;
  if (input instanceof Request || (body != null && typeof body !== 'string' && !(body instanceof Uint8Array))) return fetch(input, init);
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => {
    headers[name] = value;
  });
  const { request, pool } = undici ?? (await loadUndici());
  const answer = await request(String(input), {
    method: (init.method ?? 'GET') as 'GET',
    headers,
    body: body ?? undefined,
    signal: init.signal ?? undefined,
    dispatcher: pool,
  });
  const responseHeaders = new Headers();
  for (const [name, value] of Object.entries(answer.headers)) {
    if (Array.isArray(value)) for (const v of value) responseHeaders.append(name, v);
    else if (value !== undefined) responseHeaders.set(name, value);
  }
  if (NULL_BODY.has(answer.statusCode)) {
    answer.body.resume();
    return new Response(null, { status: answer.statusCode, headers: responseHeaders });
  }
  return new Response(Readable.toWeb(answer.body) as ReadableStream<Uint8Array>, { status: answer.statusCode, headers: responseHeaders });
}
