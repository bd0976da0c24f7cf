/**
 * SIGTERM in the middle of traffic, on a real server process over PostgreSQL:
 *   - requests in flight finish (chats whose provider takes 1.5 s answer 201 with their reply);
 *   - new requests are refused (no 2xx for anything sent after the signal was handled);
 *   - the process exits with 0 within SHUTDOWN_GRACE (plus a little cleanup), even with a
 *     streamed reply that would take longer (it is cut at the grace period);
 *   - nothing is half-written: every acknowledged write is stored, every stored message has its
 *     activity, every acknowledged reply has its question, a cut reply is marked incomplete, and
 *     the workspace counters match the rows.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeProviders, startFakeProviders, WAIT_MS } from '../support/fake-providers.js';
import {
  type HttpResult, type ProcessSession, registerOn, type ScratchDatabase, scratchDatabase, type ServerProcess, sleep, spawnServer, waitFor,
} from '../support/processes.js';

const GRACE_MS = 3000;
/** Closing the pools and the embedder after the grace period. */
const CLEANUP_MS = 2500;

interface Sample extends HttpResult {
  kind: 'chat' | 'memory' | 'profile';
  startedAt: number;
}

describe('SIGTERM during load', () => {
  let fake: FakeProviders;
  let db: ScratchDatabase;
  let server: ServerProcess;
  let session: ProcessSession;
  let direct: pg.Client;

  beforeAll(async () => {
    fake = await startFakeProviders();
    db = await scratchDatabase();
    server = await spawnServer({ ...fake.env, DATABASE_URL: db.url, SHUTDOWN_GRACE: `${GRACE_MS}ms`, LLM_TIMEOUT: '30s' });
    session = await registerOn(server, 'shutdown');
    for (const [provider, apiKey] of [['openai', 'sk-wait-shutdown1'], ['deepseek', 'sk-drip-shutdown2']]) {
      const res = await server.request('POST', '/api/integrations', { token: session.token, body: { provider, apiKey } });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    direct = new pg.Client({ connectionString: db.url });
    await direct.connect();
  });

  afterAll(async () => {
    await server?.stop(5000);
    await direct?.end();
    await fake?.close();
    await db?.drop();
  });

  it(`in-flight requests finish, new ones are refused, exit within ${GRACE_MS} ms, nothing half-written`, async () => {
    const conversations: string[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await server.request('POST', `/api/workspaces/${session.workspaceId}/conversations`, { token: session.token, body: { modelId: 'gpt-4o', title: `chat ${i}` } });
      conversations.push(c.body.data.id);
    }
    const long = await server.request('POST', `/api/workspaces/${session.workspaceId}/conversations`, { token: session.token, body: { modelId: 'deepseek-chat', title: 'long stream' } });
    const longId = long.body.data.id as string;

    const samples: Sample[] = [];
    let running = true;
    const loop = (kind: Sample['kind'], send: (i: number) => Promise<HttpResult>) => (async () => {
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
    const summary = (list: Sample[]) => list.reduce<Record<string, number>>((acc, s) => ((acc[`${s.kind}:${s.status || s.error}`] = (acc[`${s.kind}:${s.status || s.error}`] ?? 0) + 1), acc), {});
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
