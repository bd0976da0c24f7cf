/**
 * LLM providers that hang, refuse or go silent never block anything else. A real server process
 * on PostgreSQL with a deliberately small pool (3 connections) talks to the fake providers:
 *   - OpenAI with a key the fake holds forever (`hang`): JSON and streamed chats wait until
 *     LLM_TIMEOUT and answer 504 with the stored user message, while health, profile, lists and
 *     writes keep answering fast (no database connection is held across a provider call);
 *   - Anthropic behind a TCP proxy that is cut (refused: 502 at once) or blackholed (silent: 504
 *     at LLM_TIMEOUT), then restored (chats work again, no restart).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProviders, type FakeProviders } from '../support/fake-providers.js';
import {
  type HttpResult, type ProcessSession, registerOn, type ScratchDatabase, scratchDatabase, type ServerProcess, spawnServer,
  startTcpProxy, type TcpProxy, waitFor,
} from '../support/processes.js';

const LLM_TIMEOUT_MS = 4000;
const HANGING = 8;
/** Far below LLM_TIMEOUT: a request that waited on a hung provider (or on a pool it drained) would take longer. */
const FAST_MS = 1500;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

describe('provider outages and hangs (real server process)', () => {
  let fake: FakeProviders;
  let proxy: TcpProxy;
  let db: ScratchDatabase;
  let server: ServerProcess;
  let session: ProcessSession;
  let hangMarker: string;

  beforeAll(async () => {
    fake = await startFakeProviders();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(fake.baseUrl).port) });
    db = await scratchDatabase();
    server = await spawnServer({
      ...fake.env,
      ANTHROPIC_BASE_URL: `http://127.0.0.1:${proxy.port}/anthropic`,
      DATABASE_URL: db.url,
      DATABASE_POOL_SIZE: '3',
      LLM_TIMEOUT: `${LLM_TIMEOUT_MS}ms`,
    });
    session = await registerOn(server, 'providers');
    hangMarker = Math.random().toString(16).slice(2, 10);
    for (const [provider, apiKey] of [['openai', `sk-hang-${hangMarker}`], ['anthropic', `sk-ok-${hangMarker}x`]]) {
      const res = await server.request('POST', '/api/integrations', { token: session.token, body: { provider, apiKey } });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
  });

  afterAll(async () => {
    await server?.stop();
    await proxy?.close();
    await fake?.close();
    await db?.drop();
  });

  const hungChats = () => fake.requestsFor(hangMarker).filter((r) => r.provider === 'openai' && r.path.endsWith('/chat/completions'));
  const conversation = async (modelId: string) => {
    const res = await server.request('POST', `/api/workspaces/${session.workspaceId}/conversations`, { token: session.token, body: { modelId, title: 'provider fault' } });
    expect(res.status).toBe(201);
    return res.body.data.id as string;
  };
  const chat = (conversationId: string, stream = false) =>
    server.request('POST', `/api/conversations/${conversationId}/messages`, { token: session.token, body: { content: 'Are you there?', stream }, timeoutMs: 30_000 });

  /** One round of what the frontend polls and writes while chatting, each request timed. */
  const probeRound = async (i: number): Promise<HttpResult[]> => [
    await server.request('GET', '/api/health'),
    await server.request('GET', '/api/auth/profile', { token: session.token }),
    await server.request('GET', '/api/workspaces', { token: session.token }),
    await server.request('GET', `/api/workspaces/${session.workspaceId}/memories`, { token: session.token }),
    await server.request('POST', `/api/workspaces/${session.workspaceId}/memories`, { token: session.token, body: { title: `during ${i}`, content: 'written while chats hang' } }),
  ];

  it(`${HANGING} chats hanging on a provider: other requests stay fast, the chats end in 504 at LLM_TIMEOUT with the user message kept`, async () => {
    const conversations = await Promise.all(Array.from({ length: HANGING }, () => conversation('gpt-4o')));
    const baseline = (await Promise.all([0, 1, 2].map(probeRound))).flat();
    const started = Date.now();
    const chats = conversations.map((id, i) => chat(id, i % 2 === 1));
    await waitFor('every chat waiting at the provider', () => hungChats().length >= HANGING, 10_000, 20);

    const during: HttpResult[] = [];
    for (let i = 0; Date.now() - started < LLM_TIMEOUT_MS - 1000; i++) during.push(...(await probeRound(i)));
    const results = await Promise.all(chats);
    const stats = (list: HttpResult[]) => `p50 ${percentile(list.map((r) => r.ms), 50)} ms, p99 ${percentile(list.map((r) => r.ms), 99)} ms, max ${Math.max(...list.map((r) => r.ms))} ms (n=${list.length})`;
    console.log(`[faults-providers] other requests before: ${stats(baseline)}; while ${HANGING} chats hang: ${stats(during)}; chats ended after ${results.map((r) => Math.round(r.ms)).join(', ')} ms`);

    expect(during.length).toBeGreaterThan(20);
    expect(during.filter((r) => r.status < 200 || r.status >= 300).map((r) => `${r.status} ${JSON.stringify(r.body)}`)).toEqual([]);
    expect(during.filter((r) => r.ms > FAST_MS).map((r) => r.ms), `no request behind the hung chats takes over ${FAST_MS} ms`).toEqual([]);

    for (const [i, res] of results.entries()) {
      expect(res.ms).toBeGreaterThanOrEqual(LLM_TIMEOUT_MS - 100);
      expect(res.ms).toBeLessThan(LLM_TIMEOUT_MS + 5000);
      if (i % 2 === 1) {
        // Streamed: the stream opened at once and ends with an error event.
        expect(res.status).toBe(200);
        expect(String(res.body)).toMatch(/event: error\ndata: \{"status":504,"error":"AI response failed: Request timeout","userMessage":/);
      } else {
        expect(res.status).toBe(504);
        expect(res.body).toMatchObject({ ok: false, error: 'AI response failed: Request timeout', data: { userMessage: { content: 'Are you there?' } } });
      }
    }
    // The server gave up on every provider request (nothing left dangling) and kept each question.
    await waitFor('the provider requests closed', () => hungChats().every((r) => r.aborted), 5000, 50);
    for (const id of conversations) {
      const detail = await server.request('GET', `/api/conversations/${id}`, { token: session.token });
      const messages = detail.body.data.messages as { role: string; content: string }[];
      expect(messages.map((m) => m.role)).toEqual(['user']);
    }
  });

  it('a provider refusing connections answers 502 at once; a silent one 504 at LLM_TIMEOUT; both recover without restart', async () => {
    const id = await conversation('claude-3.5-sonnet');
    const ok = await chat(id);
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);

    proxy.cut('refuse');
    const refused = await chat(id);
    expect(refused.status).toBe(502);
    expect(refused.body).toMatchObject({ ok: false, data: { userMessage: { content: 'Are you there?' } } });
    expect(refused.ms).toBeLessThan(FAST_MS);

    proxy.cut('blackhole');
    const silent = chat(id);
    const meanwhile = await probeRound(99);
    const res = await silent;
    expect(res.status).toBe(504);
    expect(res.ms).toBeGreaterThanOrEqual(LLM_TIMEOUT_MS - 100);
    expect(meanwhile.every((r) => r.status >= 200 && r.status < 300 && r.ms < FAST_MS)).toBe(true);

    proxy.restore();
    const again = await chat(id);
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect(again.body.data.assistantMessage.content).toMatch(/fake provider/);
    console.log(`[faults-providers] refused provider: 502 in ${refused.ms} ms; silent provider: 504 in ${res.ms} ms; after restore: 201 in ${again.ms} ms`);

    // Every question was stored once; only the answered ones have a reply.
    const detail = await server.request('GET', `/api/conversations/${id}`, { token: session.token });
    expect((detail.body.data.messages as { role: string }[]).map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'user', 'user', 'assistant']);
  });
});
