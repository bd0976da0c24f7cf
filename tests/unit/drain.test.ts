/**
 * Draining: responses in flight when shutdown begins tell their clients to close the
 * connection, requests arriving afterwards get the 503 envelope, and a finished response
 * leaves the in-flight list (aborted ones too).
 */
import { once } from 'node:events';
import { type IncomingMessage, request as httpRequest, type Server } from 'node:http';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { Drain } from '../../src/http/drain.js';
import { createHttpServer } from '../../src/fast/http-server.js';

interface Answer {
  status: number;
  connection: string | undefined;
  body: string;
}

function get(port: number, path: string): { answer: Promise<Answer>; abort(): void } {
  const req = httpRequest({ host: '127.0.0.1', port, path, agent: false, headers: { connection: 'keep-alive' } });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.once('response', (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
    });
    req.once('error', reject);
  });
  req.end();
  return { answer, abort: () => req.destroy() };
}

describe('Drain', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    if (server?.listening) await new Promise((r) => server!.close(r));
  });

  async function start() {
    const held = new Map<string, express.Response>();
    const app = express();
    app.get('/now', (_req, res) => void res.json({ ok: true }));
    app.get('/hold/:name', (req, res) => void held.set(req.params.name, res));
    const drain = new Drain();
    server = createHttpServer(app, drain.handler(app)).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const waitHeld = async (name: string) => {
      while (!held.has(name)) await new Promise((r) => setTimeout(r, 5));
      return held.get(name)!;
    };
    return { drain, port, waitHeld };
  }

  it('keeps the in-flight list exact: finished and aborted responses leave it', async () => {
    const { drain, port, waitHeld } = await start();
    expect((await get(port, '/now').answer).status).toBe(200);
    const a = get(port, '/hold/a');
    const b = get(port, '/hold/b');
    const c = get(port, '/hold/c');
    const [ra, , rc] = await Promise.all([waitHeld('a'), waitHeld('b'), waitHeld('c')]);
    expect(drain.inFlight()).toBe(3);
    ra.json({ a: true });
    await a.answer;
    b.answer.catch(() => {}); // the client gave up: its request ends in a reset
    b.abort();
    while (drain.inFlight() > 1) await new Promise((r) => setTimeout(r, 5));
    expect(drain.inFlight()).toBe(1);
    rc.json({ c: true });
    expect((await c.answer).status).toBe(200);
    expect(drain.inFlight()).toBe(0);
  });

  it('tells every response in flight to close its connection and refuses new requests with a 503', async () => {
    const { drain, port, waitHeld } = await start();
    const first = get(port, '/hold/first');
    const middle = get(port, '/hold/middle');
    const last = get(port, '/hold/last');
    const [r1, r2, r3] = await Promise.all([waitHeld('first'), waitHeld('middle'), waitHeld('last')]);
    drain.start();
    const late = await get(port, '/now').answer;
    expect(late.status).toBe(503);
    expect(JSON.parse(late.body)).toEqual({ ok: false, data: null, error: 'Server is shutting down' });
    for (const res of [r2, r1, r3]) res.json({ ok: true });
    for (const pending of [first, middle, last]) {
      const answer = await pending.answer;
      expect(answer.status).toBe(200);
      expect(answer.connection).toBe('close');
    }
    expect(drain.inFlight()).toBe(0);
  });
});
