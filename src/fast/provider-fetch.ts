/**
 * The `fetch` the provider SDKs call, over undici's request API and one keep-alive pool.
 * WHATWG fetch does a lot per call that an SDK talking JSON or SSE to a fixed vendor URL
 * never uses (request cloning and normalisation, the fetch algorithm's redirect and CORS
 * steps): through this adapter a chat call costs about half the CPU of global fetch. Bodies
 * other than text or bytes (none of the chat calls sends one) go to global fetch. Vendor
 * APIs answer without redirects, and none is followed.
 */
import { Readable } from 'node:stream';
import { Agent, request } from 'undici';

const pool = new Agent({ keepAliveTimeout: 30_000 });

/** Statuses whose responses have no body (the Response constructor refuses one). */
const NULL_BODY = new Set([101, 204, 205, 304]);

export async function providerFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  const body = init.body;
  if (input instanceof Request || (body != null && typeof body !== 'string' && !(body instanceof Uint8Array))) return fetch(input, init);
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => {
    headers[name] = value;
  });
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
