/**
 * Faults, on one real server process (`src/server.ts` as `npm start` runs it) over PostgreSQL,
 * with a deliberately small pool (3 connections) and short deadlines:
 *
 * 1. PostgreSQL lost mid-traffic. The server reaches its throwaway database through a TCP proxy
 *    that the test cuts while writers and readers keep going:
 *      `refuse`    the database stops: open connections are reset, new ones refused;
 *      `blackhole` the network drops everything: connections stay open, nothing comes back.
 *    During the cut every request answers quickly (bounded by DATABASE_TIMEOUT_MS) with the 503
 *    envelope and /api/health says the database is down; once the proxy forwards again the same
 *    process recovers on its own, and every write acknowledged with a 2xx is still there.
 * 2. LLM providers that hang, refuse or go silent never block anything else:
 *      OpenAI with a key the fake holds forever (`hang`): JSON and streamed chats wait until
 *      LLM_TIMEOUT and answer 504 with the stored user message, while health, profile, lists and
 *      writes stay fast (no database connection is held across a provider call);
 *      Anthropic behind a TCP proxy that is cut (refused: 502 at once) or blackholed (silent:
 *      504 at LLM_TIMEOUT), then restored (chats work again, no restart).
 * 3. SIGTERM during load (last: it ends the process):
 *      requests in flight finish (chats whose provider takes 1.5 s answer 201 with their reply);
 *      new requests are refused (no 2xx for anything sent after the signal was handled);
 *      the process exits with 0 within SHUTDOWN_GRACE (plus a little cleanup), even with a
 *      streamed reply that would take longer (it is cut at the grace period);
 *      nothing is half-written: every acknowledged write is stored, every stored message has its
 *      activity, no reply without its question, a cut reply is marked incomplete, and the
 *      workspace counters match the rows.
 */
import pg from 'pg';
import { percentile } from '../../bench/lib.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeProviders, startFakeProviders, WAIT_MS } from '../support/fake-providers.js';
import {
  type HttpResult, pgTarget, type ProcessSession, registerOn, type ScratchDatabase, scratchDatabase, type ServerProcess,
  sleep, spawnServer, startTcpProxy, type TcpProxy, waitFor,
} from '../support/processes.js';

const SHORT = process.env.RELIABILITY_SHORT === '1';

// 1. Database
const TIMEOUT_MS = 1000;
/** What "quickly" means: the connection timeout, once more for a query on a dead connection, and slack for a loaded machine. */
const BOUND_MS = TIMEOUT_MS * 2 + 2000;
/** Longer than the bound, so a request that hangs through the whole cut cannot pass unnoticed. */
const CUT_MS = SHORT ? BOUND_MS + 1000 : 10_000;

// 2. Providers
const LLM_TIMEOUT_MS = 8000;
const HANGING = 8;
/** Well below what a request queued behind the hung chats would wait (the rest of LLM_TIMEOUT). */
const FAST_MS = 2000;

// 3. Shutdown
const GRACE_MS = 3000;
/** Closing the pools and the embedder after the grace period. */
const CLEANUP_MS = 2500;

/** Percentile of unsorted latencies (0 for none: the log line stays numeric). */
const latencyPercentile = (values: number[], p: number) => (values.length ? percentile([...values].sort((x, y) => x - y), p) : 0);

interface TrafficSample extends HttpResult {
  kind: 'write' | 'read';
  startedAt: number;
  title?: string;
}

/** Writers create memories, readers load the profile and the memory list, until stopped. */
function traffic(server: ServerProcess, session: ProcessSession, workers: { writers: number; readers: number }) {
  const samples: TrafficSample[] = [];
  let running = true;
  let n = 0;
  const writer = async () => {
    while (running) {
      const title = `fault-${n++}-${Math.random().toString(16).slice(2, 8)}`;
      const startedAt = Date.now();
      const res = await server.request('POST', `/api/workspaces/${session.workspaceId}/memories`, {
        token: session.token, body: { title, content: `content of ${title}`, tags: ['fault'] }, timeoutMs: 30_000,
      });
      samples.push({ ...res, kind: 'write', startedAt, title });
      if (res.status !== 201) await sleep(20);
    }
  };
  const reader = async (i: number) => {
    while (running) {
      const startedAt = Date.now();
      const path = i % 2 ? '/api/auth/profile' : `/api/workspaces/${session.workspaceId}/memories?limit=5`;
      const res = await server.request('GET', path, { token: session.token, timeoutMs: 30_000 });
      samples.push({ ...res, kind: 'read', startedAt });
      if (res.status !== 200) await sleep(20);
    }
  };
  const done = Promise.all([...Array.from({ length: workers.writers }, writer), ...Array.from({ length: workers.readers }, (_, i) => reader(i))]);
  return {
    samples,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

const describeBody = (s: TrafficSample) => `${s.kind} ${s.status} ${s.error ?? ''} ${s.ms}ms ${JSON.stringify(s.body)?.slice(0, 200)}`;

interface LoadSample extends HttpResult {
  kind: 'chat' | 'memory' | 'profile';
  startedAt: number;
}

describe('faults (one server process on PostgreSQL)', () => {
  let db: ScratchDatabase;
  let dbProxy: TcpProxy;
  let fake: FakeProviders;
  let providerProxy: TcpProxy;
  let server: ServerProcess;
  let direct: pg.Client;

  beforeAll(async () => {
    [db, fake] = await Promise.all([scratchDatabase(), startFakeProviders()]);
    dbProxy = await startTcpProxy(pgTarget(db.url));
    providerProxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(fake.baseUrl).port) });
    server = await spawnServer({
      ...fake.env,
      ANTHROPIC_BASE_URL: `http://127.0.0.1:${providerProxy.port}/anthropic`,
      DATABASE_URL: db.viaProxy(dbProxy),
      DATABASE_TIMEOUT_MS: String(TIMEOUT_MS),
      DATABASE_POOL_SIZE: '3',
      LLM_TIMEOUT: `${LLM_TIMEOUT_MS}ms`,
      SHUTDOWN_GRACE: `${GRACE_MS}ms`,
    });
    direct = new pg.Client({ connectionString: db.url });
    await direct.connect();
  });

  afterAll(async () => {
    await server?.stop(5000);
    await direct?.end();
    await Promise.all([dbProxy?.close(), providerProxy?.close(), fake?.close()]);
    await db?.drop();
  });

  describe('PostgreSQL stopped mid-traffic (through a TCP proxy)', () => {
    let session: ProcessSession;
    beforeAll(async () => {
      session = await registerOn(server, 'faults');
    });

    for (const mode of ['refuse', 'blackhole'] as const) {
      it(`cut (${mode}): 503 envelopes within ${BOUND_MS} ms, health down, recovery without restart, no acknowledged write lost`, async () => {
        const pid = server.child.pid;
        const load = traffic(server, session, { writers: 3, readers: 2 });
        let health: HttpResult;
        let restoredAt: number;
        let recovered: number;
        let cutAt = Number.POSITIVE_INFINITY;
        try {
          await sleep(800);
          dbProxy.cut(mode);
          cutAt = Date.now();
          // Health while the database is away.
          await sleep(300);
          health = await server.request('GET', '/api/health', { timeoutMs: 15_000 });
          await sleep(CUT_MS);
        } finally {
          restoredAt = Date.now();
          dbProxy.restore();
        }
        try {
          // The same process comes back by itself.
          recovered = await waitFor('health 200 after restore', async () => {
            const r = await server.request('GET', '/api/health', { timeoutMs: 5000 });
            return r.status === 200 ? Date.now() : null;
          }, 30_000, 100);
          await waitFor('a write succeeding after restore', () => load.samples.some((s) => s.kind === 'write' && s.status === 201 && s.startedAt > recovered), 15_000);
          await sleep(300);
        } finally {
          await load.stop();
        }
        expect(server.child.pid).toBe(pid);
        expect(server.child.exitCode).toBeNull();

        const during = load.samples.filter((s) => s.startedAt >= cutAt + 50 && s.startedAt + s.ms < restoredAt);
        const bad = load.samples.filter((s) => s.status === 0 || s.status === 500 || (s.status >= 400 && s.status !== 503) || typeof s.body !== 'object' || s.body === null || !('ok' in s.body));
        // Whatever overlapped the cut (started before it, or finished only after the restore) answered within the bound of the cut.
        const slow = load.samples.filter((s) => s.startedAt < restoredAt && s.startedAt + s.ms > cutAt && s.startedAt + s.ms - Math.max(s.startedAt, cutAt) > BOUND_MS);
        const counts = (list: TrafficSample[]) => list.reduce<Record<string, number>>((acc, s) => ((acc[`${s.kind}:${s.status || s.error}`] = (acc[`${s.kind}:${s.status || s.error}`] ?? 0) + 1), acc), {});
        const maxDuring = Math.max(0, ...during.map((s) => s.ms));
        console.log(`[faults-database ${mode}] requests ${load.samples.length}; during the cut ${during.length} (max ${maxDuring} ms): ${JSON.stringify(counts(during))}; all: ${JSON.stringify(counts(load.samples))}; health ${health.ms} ms; recovered ${recovered - restoredAt} ms after restore`);

        expect(health.status, JSON.stringify(health.body)).toBe(503);
        expect(health.body).toMatchObject({ ok: false, error: 'Database unavailable', data: { status: 'unhealthy', database: expect.stringMatching(/^error: /) } });
        expect(health.ms).toBeLessThan(BOUND_MS);
        expect(bad.map(describeBody), 'every answer is an envelope, 2xx or 503').toEqual([]);
        expect(during.length, 'requests were made during the cut').toBeGreaterThan(5);
        expect(during.every((s) => s.status === 503 && s.body.ok === false && s.body.error === 'Database unavailable' && s.headers?.get('retry-after')), 'every request during the cut is a 503 envelope').toBe(true);
        expect(slow.map(describeBody), `no request hangs on the cut for more than ${BOUND_MS} ms`).toEqual([]);
        expect(recovered - restoredAt).toBeLessThan(15_000);

        // Every acknowledged write is there: through the API and in the database itself.
        const acknowledged = load.samples.filter((s) => s.kind === 'write' && s.status === 201);
        expect(acknowledged.length).toBeGreaterThan(3);
        const ids = acknowledged.map((s) => s.body.data.id as string);
        const stored = await direct.query<{ id: string; title: string }>('SELECT id, title FROM memories WHERE id = ANY($1)', [ids]);
        const byId = new Map(stored.rows.map((r) => [r.id, r.title]));
        expect(acknowledged.filter((s) => byId.get(s.body.data.id) !== s.title).map((s) => s.title), 'acknowledged writes missing').toEqual([]);
        for (const s of acknowledged.slice(-5)) {
          const read = await server.request('GET', `/api/memories/${s.body.data.id}`, { token: session.token });
          expect(read.status).toBe(200);
          expect(read.body.data.title).toBe(s.title);
        }
      });
    }
  });

  describe('provider outages and hangs', () => {
    let providerSession: ProcessSession;
    let hangMarker: string;
    beforeAll(async () => {
      providerSession = await registerOn(server, 'providers');
      hangMarker = Math.random().toString(16).slice(2, 10);
      for (const [provider, apiKey] of [['openai', `sk-hang-${hangMarker}`], ['anthropic', `sk-ok-${hangMarker}x`]]) {
        const res = await server.request('POST', '/api/integrations', { token: providerSession.token, body: { provider, apiKey } });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
      }
    });

    const hungChats = () => fake.requestsFor(hangMarker).filter((r) => r.provider === 'openai' && r.path.endsWith('/chat/completions'));
    const conversation = async (modelId: string) => {
      const res = await server.request('POST', `/api/workspaces/${providerSession.workspaceId}/conversations`, { token: providerSession.token, body: { modelId, title: 'provider fault' } });
      expect(res.status).toBe(201);
      return res.body.data.id as string;
    };
    const chat = (conversationId: string, stream = false) =>
      server.request('POST', `/api/conversations/${conversationId}/messages`, { token: providerSession.token, body: { content: 'Are you there?', stream }, timeoutMs: 30_000 });

    /** One round of what the frontend polls and writes while chatting, each request timed. */
    const probeRound = async (i: number): Promise<HttpResult[]> => [
      await server.request('GET', '/api/health'),
      await server.request('GET', '/api/auth/profile', { token: providerSession.token }),
      await server.request('GET', '/api/workspaces', { token: providerSession.token }),
      await server.request('GET', `/api/workspaces/${providerSession.workspaceId}/memories`, { token: providerSession.token }),
      await server.request('POST', `/api/workspaces/${providerSession.workspaceId}/memories`, { token: providerSession.token, body: { title: `during ${i}`, content: 'written while chats hang' } }),
    ];

    it(`${HANGING} chats hanging on a provider: other requests stay fast, the chats end in 504 at LLM_TIMEOUT with the user message kept`, async () => {
      const conversations = await Promise.all(Array.from({ length: HANGING }, () => conversation('gpt-4o')));
      const baseline = (await Promise.all([0, 1, 2].map(probeRound))).flat();
      const chats = conversations.map((id, i) => chat(id, i % 2 === 1));
      await waitFor('every chat waiting at the provider', () => hungChats().length >= HANGING, 10_000, 20);

      const during: HttpResult[] = [];
      // Every chat's deadline started before this point, so for the next ~LLM_TIMEOUT all of them hang.
      const hungAt = Date.now();
      for (let i = 0; Date.now() - hungAt < LLM_TIMEOUT_MS - 3000; i++) during.push(...(await probeRound(i)));
      const results = await Promise.all(chats);
      const stats = (list: HttpResult[]) => `p50 ${latencyPercentile(list.map((r) => r.ms), 50)} ms, p99 ${latencyPercentile(list.map((r) => r.ms), 99)} ms, max ${Math.max(...list.map((r) => r.ms))} ms (n=${list.length})`;
      console.log(`[faults-providers] other requests before: ${stats(baseline)}; while ${HANGING} chats hang: ${stats(during)}; chats ended after ${results.map((r) => Math.round(r.ms)).join(', ')} ms`);

      expect(during.length).toBeGreaterThanOrEqual(10);
      expect(during.filter((r) => r.status < 200 || r.status >= 300).map((r) => `${r.status} ${JSON.stringify(r.body)}`)).toEqual([]);
      expect(during.filter((r) => r.ms > FAST_MS).map((r) => r.ms), `no request behind the hung chats takes over ${FAST_MS} ms`).toEqual([]);

      for (const [i, res] of results.entries()) {
        expect(res.ms).toBeGreaterThanOrEqual(LLM_TIMEOUT_MS - 100);
        expect(res.ms).toBeLessThan(LLM_TIMEOUT_MS + 8000);
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
        const detail = await server.request('GET', `/api/conversations/${id}`, { token: providerSession.token });
        const messages = detail.body.data.messages as { role: string; content: string }[];
        expect(messages.map((m) => m.role)).toEqual(['user']);
      }
    });

    it('a provider refusing connections answers 502 at once; a silent one 504 at LLM_TIMEOUT; both recover without restart', async () => {
      const id = await conversation('claude-3.5-sonnet');
      const ok = await chat(id);
      expect(ok.status, JSON.stringify(ok.body)).toBe(201);

      providerProxy.cut('refuse');
      const refused = await chat(id);
      expect(refused.status).toBe(502);
      expect(refused.body).toMatchObject({ ok: false, data: { userMessage: { content: 'Are you there?' } } });
      expect(refused.ms).toBeLessThan(FAST_MS);

      providerProxy.cut('blackhole');
      const silent = chat(id);
      const meanwhile = await probeRound(99);
      const res = await silent;
      expect(res.status).toBe(504);
      expect(res.ms).toBeGreaterThanOrEqual(LLM_TIMEOUT_MS - 100);
      expect(meanwhile.every((r) => r.status >= 200 && r.status < 300 && r.ms < FAST_MS)).toBe(true);

      providerProxy.restore();
      const again = await chat(id);
      expect(again.status, JSON.stringify(again.body)).toBe(201);
      expect(again.body.data.assistantMessage.content).toMatch(/fake provider/);
      console.log(`[faults-providers] refused provider: 502 in ${refused.ms} ms; silent provider: 504 in ${res.ms} ms; after restore: 201 in ${again.ms} ms`);

      // Every question was stored once; only the answered ones have a reply.
      const detail = await server.request('GET', `/api/conversations/${id}`, { token: providerSession.token });
      expect((detail.body.data.messages as { role: string }[]).map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'user', 'user', 'assistant']);
    });
  });

  describe('SIGTERM during load', () => {
    it(`in-flight requests finish, new ones are refused, exit within ${GRACE_MS} ms, nothing half-written`, async () => {
      const session = await registerOn(server, 'shutdown');
      for (const [provider, apiKey] of [['openai', 'sk-wait-shutdown1'], ['deepseek', 'sk-drip-shutdown2']]) {
        const res = await server.request('POST', '/api/integrations', { token: session.token, body: { provider, apiKey } });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
      }
      const conversations: string[] = [];
      for (let i = 0; i < 4; i++) {
        const c = await server.request('POST', `/api/workspaces/${session.workspaceId}/conversations`, { token: session.token, body: { modelId: 'gpt-4o', title: `chat ${i}` } });
        conversations.push(c.body.data.id);
      }
      const long = await server.request('POST', `/api/workspaces/${session.workspaceId}/conversations`, { token: session.token, body: { modelId: 'deepseek-chat', title: 'long stream' } });
      const longId = long.body.data.id as string;

      const samples: LoadSample[] = [];
      let running = true;
      const loop = (kind: LoadSample['kind'], send: (i: number) => Promise<HttpResult>) => (async () => {
        for (let i = 0; running; i++) {
          const startedAt = Date.now();
          const res = await send(i);
          samples.push({ ...res, kind, startedAt });
          if (res.status === 0) await sleep(50);
        }
      })();
      const loops = [
        ...conversations.map((id) => loop('chat', () => server.request('POST', `/api/conversations/${id}/messages`, { token: session.token, body: { content: 'question' } }))),
        ...[0, 1].map((w) => loop('memory', (i) => server.request('POST', `/api/workspaces/${session.workspaceId}/memories`, { token: session.token, body: { title: `m-${w}-${i}`, content: 'kept' } }))),
        loop('profile', () => server.request('GET', '/api/auth/profile', { token: session.token })),
      ];
      // A streamed reply of ~10 s: longer than the grace period.
      const streamed = server.request('POST', `/api/conversations/${longId}/messages`, { token: session.token, body: { content: 'tell me a long story', stream: true } });

      await sleep(WAIT_MS + 800); // every chat loop has a chat in flight, mid-provider
      const signalledAt = Date.now();
      server.child.kill('SIGTERM');
      await waitFor('the shutdown to begin', () => server.logLines().some((l) => l.msg === 'shutting down'), 5000, 10);
      const handledAt = Date.now();
      const code = await server.exited;
      const exitedAt = Date.now();
      running = false;
      await Promise.all(loops);
      const stream = await streamed;

      const inFlight = samples.filter((s) => s.startedAt < signalledAt && s.startedAt + s.ms > signalledAt);
      const after = samples.filter((s) => s.startedAt > handledAt + 50);
      const summary = (list: LoadSample[]) => list.reduce<Record<string, number>>((acc, s) => ((acc[`${s.kind}:${s.status || s.error}`] = (acc[`${s.kind}:${s.status || s.error}`] ?? 0) + 1), acc), {});
      console.log(`[shutdown] exit code ${code} ${exitedAt - signalledAt} ms after SIGTERM (grace ${GRACE_MS} ms); in flight at the signal: ${JSON.stringify(summary(inFlight))}; sent after: ${JSON.stringify(summary(after))}; long stream: ${stream.status}, ${String(stream.body).length} bytes`);

      expect(code).toBe(0);
      expect(exitedAt - signalledAt).toBeLessThan(GRACE_MS + CLEANUP_MS);
      // In flight → finished properly.
      const inFlightChats = inFlight.filter((s) => s.kind === 'chat');
      expect(inFlightChats.length).toBeGreaterThanOrEqual(3);
      expect(inFlight.map((s) => s.status).filter((s) => s < 200 || s >= 300), 'in-flight requests answered 2xx').toEqual([]);
      expect(inFlightChats.every((s) => s.body.data.assistantMessage?.role === 'assistant')).toBe(true);
      // Sent after the signal → refused, never served.
      expect(after.length).toBeGreaterThan(0);
      expect(after.filter((s) => s.status !== 0 && s.status !== 503).map((s) => `${s.kind} ${s.status}`), 'requests after SIGTERM are refused').toEqual([]);
      // The long stream was cut at the grace period: no `done` event.
      expect(String(stream.body)).not.toMatch(/event: done/);

      // Nothing half-written.
      const acknowledged = samples.filter((s) => s.status >= 200 && s.status < 300);
      const chats = acknowledged.filter((s) => s.kind === 'chat');
      const ids = chats.flatMap((s) => [s.body.data.userMessage.id, s.body.data.assistantMessage.id]);
      const memoryIds = acknowledged.filter((s) => s.kind === 'memory').map((s) => s.body.data.id);
      const stored = await direct.query<{ id: string }>('SELECT id FROM chat_messages WHERE id = ANY($1) UNION ALL SELECT id FROM memories WHERE id = ANY($2)', [ids, memoryIds]);
      expect(stored.rows.length, 'every acknowledged message and memory is stored').toBe(ids.length + memoryIds.length);

      const orphans = await direct.query(`SELECT m.id FROM chat_messages m WHERE NOT EXISTS (
        SELECT 1 FROM activities a WHERE a.type = 'message_sent' AND a.metadata->>'messageId' = m.id)`);
      expect(orphans.rows, 'every stored message has its activity').toEqual([]);
      const replies = await direct.query<{ conversation_id: string; users: number; assistants: number; incomplete: number }>(
        `SELECT conversation_id, count(*) FILTER (WHERE role = 'user')::int AS users, count(*) FILTER (WHERE role = 'assistant')::int AS assistants,
                count(*) FILTER (WHERE role = 'assistant' AND (metadata->>'incomplete')::boolean)::int AS incomplete
           FROM chat_messages GROUP BY conversation_id`);
      for (const r of replies.rows) expect(r.assistants, `no reply without its question in ${r.conversation_id}`).toBeLessThanOrEqual(r.users);
      const longRow = replies.rows.find((r) => r.conversation_id === longId);
      expect(longRow?.users).toBe(1);
      expect(longRow!.assistants, 'a cut reply, if kept, is marked incomplete').toBe(longRow!.incomplete);

      const counters = await direct.query<{ ok: boolean }>(
        `SELECT k.memories = (SELECT count(*) FROM memories m WHERE m.workspace_id = k.workspace_id)
            AND k.conversations = (SELECT count(*) FROM conversations c WHERE c.workspace_id = k.workspace_id) AS ok
           FROM workspace_counters k`);
      expect(counters.rows.every((r) => r.ok), 'workspace counters match the rows').toBe(true);
    });
  });
});
