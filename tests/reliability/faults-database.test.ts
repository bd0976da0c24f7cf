/**
 * PostgreSQL lost mid-traffic. A real server process reaches its own throwaway database through
 * a TCP proxy that the test cuts while writers and readers keep going:
 *   `refuse`    the database stops: open connections are reset, new ones refused;
 *   `blackhole` the network drops everything: connections stay open and nothing comes back.
 * During the cut every request answers quickly (DATABASE_TIMEOUT_MS-bounded) with the 503
 * envelope, /api/health says the database is down; after the proxy forwards again the same
 * process recovers on its own, and every write that was acknowledged (2xx) is still readable.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type HttpResult, pgTarget, type ProcessSession, registerOn, type ScratchDatabase, scratchDatabase, type ServerProcess,
  sleep, spawnServer, startTcpProxy, type TcpProxy, waitFor,
} from '../support/processes.js';

const SHORT = process.env.RELIABILITY_SHORT === '1';
const TIMEOUT_MS = 1000;
/** What "quickly" means: the connection timeout, once more for a query on a dead connection, and slack for a loaded machine. */
const BOUND_MS = TIMEOUT_MS * 2 + 2000;
/** Longer than the bound, so a request that hangs through the whole cut cannot pass unnoticed. */
const CUT_MS = SHORT ? BOUND_MS + 1000 : 10_000;

interface Sample extends HttpResult {
  kind: 'write' | 'read';
  startedAt: number;
  title?: string;
}

/** Writers create memories, readers load the profile and the memory list, until stopped. */
function traffic(server: ServerProcess, session: ProcessSession, workers: { writers: number; readers: number }) {
  const samples: Sample[] = [];
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

const describeBody = (s: Sample) => `${s.kind} ${s.status} ${s.error ?? ''} ${s.ms}ms ${JSON.stringify(s.body)?.slice(0, 200)}`;

describe('PostgreSQL stopped mid-traffic (through a TCP proxy)', () => {
  let db: ScratchDatabase;
  let proxy: TcpProxy;
  let server: ServerProcess;
  let session: ProcessSession;
  let direct: pg.Client;

  beforeAll(async () => {
    db = await scratchDatabase();
    proxy = await startTcpProxy(pgTarget(db.url));
    server = await spawnServer({ DATABASE_URL: db.viaProxy(proxy), DATABASE_TIMEOUT_MS: String(TIMEOUT_MS), DATABASE_POOL_SIZE: '5' });
    session = await registerOn(server, 'faults');
    direct = new pg.Client({ connectionString: db.url });
    await direct.connect();
  });

  afterAll(async () => {
    await server?.stop();
    await direct?.end();
    await proxy?.close();
    await db?.drop();
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
        proxy.cut(mode);
        cutAt = Date.now();
        // Health while the database is away.
        await sleep(300);
        health = await server.request('GET', '/api/health', { timeoutMs: 15_000 });
        await sleep(CUT_MS);
      } finally {
        restoredAt = Date.now();
        proxy.restore();
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
      const counts = (list: Sample[]) => list.reduce<Record<string, number>>((acc, s) => ((acc[`${s.kind}:${s.status || s.error}`] = (acc[`${s.kind}:${s.status || s.error}`] ?? 0) + 1), acc), {});
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
