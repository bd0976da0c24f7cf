/**
 * The providers' fetch (src/fast/provider-fetch.ts) answers as global fetch does, for what the
 * provider SDKs ask of it: against one local node:http server, both give the same status,
 * headers, body (text, JSON, a server-sent-event stream read as it arrives, none for 204/304),
 * send the same POST bodies (a JSON string, bytes), and reject alike on an abort and on a
 * refused connection. One known difference: providerFetch's statusText is empty (undici's
 * request API does not report the reason phrase), and neither SDK reads it.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerFetch } from '../../src/fast/provider-fetch.js';

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;
const IMPLEMENTATIONS: [string, Fetch][] = [
  ['global fetch', (input, init) => fetch(input, init)],
  ['providerFetch', (input, init) => providerFetch(input, init)],
];

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Released by the test once it has read the first event, so the second cannot arrive with it. */
let releaseSecondEvent: () => void = () => {};

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const url = req.url ?? '/';
    if (url === '/json') {
      res.setHeader('x-request-id', 'req-1');
      res.setHeader('x-ratelimit', ['a', 'b']);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'chatcmpl-1', choices: [{ text: 'hé' }] }));
    } else if (url === '/text') {
      res.writeHead(429, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '3' }).end('slow down');
    } else if (url === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('data: {"delta":"one"}\n\n');
      await new Promise<void>((resolve) => (releaseSecondEvent = resolve));
      res.end('data: {"delta":"two"}\n\ndata: [DONE]\n\n');
    } else if (url === '/204') {
      res.writeHead(204, { 'x-custom': 'none' }).end();
    } else if (url === '/304') {
      res.writeHead(304, { etag: '"v1"' }).end();
    } else if (url === '/echo') {
      const body = await bodyOf(req);
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({ method: req.method, contentType: req.headers['content-type'] ?? null, authorization: req.headers.authorization ?? null, body: body.toString('base64') }),
      );
    } else if (url === '/hang') {
      // never answers: the caller aborts
    } else {
      res.writeHead(404).end();
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
});

/** The headers a provider SDK reads (the rest, like date and keep-alive, are transport). */
function headersThatMatter(res: Response) {
  return Object.fromEntries(['content-type', 'content-length', 'x-request-id', 'x-ratelimit', 'retry-after', 'cache-control', 'x-custom', 'etag'].map((name) => [name, res.headers.get(name)]));
}

/** What each implementation gives for `go`, so the test compares them field by field. */
async function both<T>(go: (f: Fetch) => Promise<T>): Promise<{ global: T; provider: T }> {
  const [global, provider] = await Promise.all(IMPLEMENTATIONS.map(([, f]) => go(f)));
  return { global: global!, provider: provider! };
}

describe('providerFetch against global fetch', () => {
  it('gives the same status, headers and JSON body', async () => {
    const { global, provider } = await both(async (f) => {
      const res = await f(`${base}/json`);
      return { status: res.status, ok: res.ok, headers: headersThatMatter(res), body: await res.json() };
    });
    expect(global).toMatchObject({ status: 200, headers: { 'x-request-id': 'req-1', 'x-ratelimit': 'a, b', 'content-type': 'application/json' } });
    expect(provider).toEqual(global);
  });

  it('gives the same status, headers and text body of an error answer', async () => {
    const { global, provider } = await both(async (f) => {
      const res = await f(`${base}/text`);
      return { status: res.status, ok: res.ok, headers: headersThatMatter(res), body: await res.text() };
    });
    expect(global).toMatchObject({ status: 429, ok: false, body: 'slow down', headers: { 'retry-after': '3' } });
    expect(provider).toEqual(global);
  });

  it.each(IMPLEMENTATIONS)('%s reads a server-sent-event stream as it arrives', async (_, f) => {
    const res = await f(`${base}/sse`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    // The server holds the second event back until the first has been read here.
    const first = await reader.read();
    expect(first.done).toBe(false);
    expect(decoder.decode(first.value)).toBe('data: {"delta":"one"}\n\n');
    releaseSecondEvent();
    let rest = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += decoder.decode(value, { stream: true });
    }
    expect(rest).toBe('data: {"delta":"two"}\n\ndata: [DONE]\n\n');
  });

  it.each(['204', '304'])('gives no body for a %s', async (status) => {
    const { global, provider } = await both(async (f) => {
      const res = await f(`${base}/${status}`);
      return { status: res.status, bodyIsNull: res.body === null, text: await res.text(), headers: headersThatMatter(res) };
    });
    expect(global).toMatchObject({ status: Number(status), bodyIsNull: true, text: '' });
    expect(provider).toEqual(global);
  });

  it.each([
    ['a JSON string', JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'héllo' }] })],
    ['bytes', new Uint8Array([0, 1, 2, 250, 255])],
  ])('sends a POST with %s as its body', async (_, body) => {
    const { global, provider } = await both(async (f) => {
      const res = await f(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' }, body });
      return res.json();
    });
    expect(global).toEqual({
      method: 'POST',
      contentType: 'application/json',
      authorization: 'Bearer sk-test',
      body: Buffer.from(typeof body === 'string' ? Buffer.from(body) : body).toString('base64'),
    });
    expect(provider).toEqual(global);
  });

  it.each(IMPLEMENTATIONS)('%s rejects with an AbortError when the signal aborts', async (_, f) => {
    const controller = new AbortController();
    const pending = f(`${base}/hang`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it.each(IMPLEMENTATIONS)('%s rejects when the connection is refused', async (_, f) => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as AddressInfo;
    closed.close();
    await once(closed, 'close');
    const error = await f(`http://127.0.0.1:${port}/`).then(
      () => null,
      (e: unknown) => e as Error & { code?: string; cause?: { code?: string } },
    );
    expect(error).toBeInstanceOf(Error);
    expect(error!.code ?? error!.cause?.code).toBe('ECONNREFUSED');
  });
});
