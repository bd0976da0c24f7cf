/**
 * Two server processes on one PostgreSQL database and one Redis (the local ones, with a key
 * prefix of this run's own): what one instance decides, the other honours.
 *   - the auth rate limits count failed attempts on both together (per client IP, per account and IP);
 *   - a refresh token rotated on A and replayed on B revokes the whole family;
 *   - an access token revoked by logout on A is refused by B;
 *   - a memory written on A is found by B's semantic search once embedded (tiny model);
 *   - the retention sweep, racing on both, deletes each expired row once and logs one run.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dirs.js';
import { writeTinyModel } from '../support/tiny-model.js';
import {
  type HttpResult, registerOn, type ScratchDatabase, scratchDatabase, type ServerProcess, sleep, spawnServer, waitFor,
} from '../support/processes.js';

const PER_IP = 12;
const PER_EMAIL = 5;
/** The retention sweep's advisory lock key (src/data/account-content.ts). */
const SWEEP_LOCK = 0x43_68_69_6d_52_65_74n;

describe('two instances on one PostgreSQL and one Redis', () => {
  let db: ScratchDatabase;
  let a: ServerProcess;
  let b: ServerProcess;
  let direct: pg.Client;
  const prefix = `chimera-test-${randomBytes(4).toString('hex')}:`;

  beforeAll(async () => {
    db = await scratchDatabase();
    const modelDir = tempDir('chimera-model-');
    const env = {
      DATABASE_URL: db.url,
      DATABASE_POOL_SIZE: '4',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_KEY_PREFIX: prefix,
      AUTH_RATE_LIMIT_PER_IP: String(PER_IP),
      AUTH_RATE_LIMIT_PER_EMAIL: String(PER_EMAIL),
      TRUST_PROXY: 'loopback', // X-Forwarded-For names the client, so each test has its own address
      EMBEDDING_MODEL_DIR: modelDir,
      EMBEDDING_MODEL: writeTinyModel(modelDir),
      EMBEDDING_POLL_INTERVAL: '300ms',
      EMBEDDING_THREADS: '1',
      SEARCH_MIN_SIMILARITY: '0',
      RETENTION_SWEEP_INTERVAL: '250ms',
      LOG_LEVEL: 'debug',
    };
    // Started together: the migrations run once, under their advisory lock.
    [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
    direct = new pg.Client({ connectionString: db.url });
    await direct.connect();
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await direct?.end();
    await db?.drop();
  });

  const login = (server: ServerProcess, email: string, ip: string, password = 'wrong password 1') =>
    server.request('POST', '/api/auth/login', { body: { email, password }, headers: { 'X-Forwarded-For': ip } });

  it('migrated the database once, though both started at the same moment', async () => {
    const { rows } = await direct.query<{ migration_name: string; n: number }>('SELECT migration_name, count(*)::int AS n FROM _prisma_migrations GROUP BY 1');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.n === 1)).toBe(true);
  });

  it('limits failed logins per account and client address across both instances, and never locks the owner out', async () => {
    const owner = await registerOn(a, 'limited');
    const ip = '198.51.100.7';
    const results: HttpResult[] = [];
    for (let i = 0; i < PER_EMAIL + 3; i++) results.push(await login(i % 2 ? b : a, owner.user.email, ip));
    const statuses = results.map((r) => r.status);
    console.log(`[instances] per-account-and-address limit ${PER_EMAIL}: statuses A/B alternating ${statuses.join(',')}`);
    expect(statuses.slice(0, PER_EMAIL)).toEqual(Array(PER_EMAIL).fill(401));
    expect(statuses.slice(PER_EMAIL)).toEqual(Array(3).fill(429));
    expect(results.at(-1)!.body).toEqual({ ok: false, data: null, error: 'Too many attempts. Please try again later.' });
    // From another address, the owner's right password still works on either instance.
    for (const server of [a, b]) expect((await login(server, owner.user.email, '198.51.100.8', owner.password)).status).toBe(200);
  });

  it('limits login attempts per client address across both instances', async () => {
    const ip = '203.0.113.77';
    const statuses: number[] = [];
    for (let i = 0; i < PER_IP + 4; i++) statuses.push((await login(i % 2 ? b : a, `ip-${i}-${randomBytes(3).toString('hex')}@example.test`, ip)).status);
    console.log(`[instances] per-address limit ${PER_IP}: statuses A/B alternating ${statuses.join(',')}`);
    expect(statuses.filter((s) => s === 401)).toHaveLength(PER_IP);
    expect(statuses.slice(PER_IP)).toEqual(Array(4).fill(429));
    // Another address is not affected.
    expect((await login(b, 'someone@example.test', '203.0.113.78')).status).toBe(401);
  });

  it('detects refresh-token reuse across instances and revokes the family', async () => {
    const session = await registerOn(a, 'refresh');
    const rotated = await a.request('POST', '/api/auth/refresh', { body: { refresh: session.refresh } });
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.data.refresh as string;
    const replay = await b.request('POST', '/api/auth/refresh', { body: { refresh: session.refresh } });
    expect(replay.status).toBe(401);
    expect(replay.body.error).toBe('Invalid or expired refresh token');
    // The token issued by the rotation belonged to the same family: revoked on both.
    for (const server of [a, b]) {
      const after = await server.request('POST', '/api/auth/refresh', { body: { refresh: fresh } });
      expect(after.status).toBe(401);
    }
    expect(b.logLines().some((l) => l.msg === 'refresh token reuse detected; family revoked' && l.userId === session.user.id)).toBe(true);
  });

  it('refuses on B an access token revoked by logout on A', async () => {
    const session = await registerOn(a, 'logout');
    expect((await b.request('GET', '/api/auth/profile', { token: session.token })).status).toBe(200);
    const out = await a.request('POST', '/api/auth/logout', { token: session.token, body: { refresh: session.refresh } });
    expect(out.status).toBe(200);
    const profile = await b.request('GET', '/api/auth/profile', { token: session.token });
    expect(profile.status).toBe(401);
    expect(profile.body.ok).toBe(false);
    expect((await b.request('POST', '/api/auth/refresh', { body: { refresh: session.refresh } })).status).toBe(401);
  });

  it('finds on B, by meaning, a memory written on A once it is embedded', async () => {
    const session = await registerOn(a, 'search');
    await waitFor('the model loaded on both', async () => {
      const [ha, hb] = await Promise.all([a.request('GET', '/api/health'), b.request('GET', '/api/health')]);
      return ha.body?.data?.embeddings?.status === 'ready' && hb.body?.data?.embeddings?.status === 'ready';
    }, 60_000, 200);
    const search = (query: string) => b.request('POST', '/api/memories/search', { token: session.token, body: { query, workspaceId: session.workspaceId } });
    const first = await a.request('POST', `/api/workspaces/${session.workspaceId}/memories`, { token: session.token, body: { title: 'Pizza night', content: 'cheese tomato oven bread' } });
    expect(first.status).toBe(201);
    // B loads (and caches) the workspace's vectors with the first memory.
    const warm = await waitFor('the first memory found on B', async () => {
      const r = await search('pizza cheese');
      return r.body.data.results.some((x: { id: string; matchType: string }) => x.id === first.body.data.id && x.matchType !== 'lexical') ? r : null;
    }, 30_000, 200);
    expect(warm.body.data.mode).toBe('hybrid');

    const second = await a.request('POST', `/api/workspaces/${session.workspaceId}/memories`, { token: session.token, body: { title: 'Rocket launch', content: 'rockets orbit the moon and mars' } });
    expect(second.status).toBe(201);
    const started = Date.now();
    const found = await waitFor('the second memory found on B by meaning', async () => {
      const r = await search('rocket orbit moon');
      const hit = r.body.data.results.find((x: { id: string }) => x.id === second.body.data.id);
      return hit && hit.matchType !== 'lexical' ? hit : null;
    }, 30_000, 100);
    console.log(`[instances] memory written on A found semantically on B after ${Date.now() - started} ms (poll interval 300 ms), match ${found.matchType}`);
    const stored = await b.request('GET', `/api/memories/${second.body.data.id}`, { token: session.token });
    expect(stored.body.data.embeddingStatus).toBe('ready');
  });

  it('runs the retention sweep on one instance at a time: each expired row deleted once, one run logged', async () => {
    const keep = await registerOn(a, 'keeper');
    const owner = await registerOn(a, 'expiring');
    expect((await a.request('PUT', '/api/settings/memory-retention', { token: owner.token, body: { retentionPeriod: '7-days' } })).status).toBe(200);
    const N = 12;
    for (const s of [owner, keep]) {
      for (let i = 0; i < N; i++) {
        const m = await a.request('POST', `/api/workspaces/${s.workspaceId}/memories`, { token: s.token, body: { title: `old ${i}`, content: `old memory ${i}` } });
        expect(m.status).toBe(201);
      }
      const c = await b.request('POST', `/api/workspaces/${s.workspaceId}/conversations`, { token: s.token, body: { modelId: 'echo', title: 'old chat' } });
      expect(c.status, JSON.stringify(c.body)).toBe(201);
      for (let i = 0; i < 3; i++) {
        const msg = await b.request('POST', `/api/conversations/${c.body.data.id}/messages`, { token: s.token, body: { content: `hello ${i}`, getAiResponse: false } });
        expect(msg.status, JSON.stringify(msg.body)).toBe(201);
      }
    }
    const expected = async () => {
      const { rows } = await direct.query<{ memories: number; conversations: number; messages: number }>(
        `SELECT (SELECT count(*) FROM memories WHERE workspace_id = $1)::int AS memories,
                (SELECT count(*) FROM conversations WHERE workspace_id = $1)::int AS conversations,
                (SELECT count(*) FROM chat_messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.workspace_id = $1)::int AS messages`,
        [owner.workspaceId],
      );
      return rows[0]!;
    };
    const logsBefore = { a: a.logLines().length, b: b.logLines().length };

    // Hold the sweep's lock, age both users' content by 30 days, and let both instances try.
    await direct.query('SELECT pg_advisory_lock($1::bigint)', [SWEEP_LOCK]);
    let held = true;
    try {
      await direct.query('BEGIN');
      for (const table of ['memories', 'conversations']) {
        await direct.query(`UPDATE ${table} SET updated_at = now() - interval '30 days' WHERE workspace_id = ANY($1)`, [[owner.workspaceId, keep.workspaceId]]);
      }
      await direct.query('COMMIT');
      const aged = await expected();
      expect(aged).toEqual({ memories: N, conversations: 1, messages: 3 });
      const skipped = (server: ServerProcess, from: number) => server.logLines().slice(from).filter((l) => l.msg === 'retention cleanup skipped: another instance is sweeping').length;
      await waitFor('both instances skipping while the lock is held', () => skipped(a, logsBefore.a) > 0 && skipped(b, logsBefore.b) > 0, 15_000);
      expect(await expected(), 'nothing deleted while another holder has the lock').toEqual(aged);
      await direct.query('SELECT pg_advisory_unlock($1::bigint)', [SWEEP_LOCK]);
      held = false;
    } finally {
      if (held) await direct.query('SELECT pg_advisory_unlock($1::bigint)', [SWEEP_LOCK]);
    }

    await waitFor('the expired content gone', async () => (await expected()).memories === 0, 15_000);
    await sleep(1000); // more rounds on both instances: none may find anything left to delete
    expect(await expected()).toEqual({ memories: 0, conversations: 0, messages: 0 });
    // The other user keeps everything (indefinite retention by default).
    const kept = await direct.query<{ n: number }>('SELECT count(*)::int AS n FROM memories WHERE workspace_id = $1', [keep.workspaceId]);
    expect(kept.rows[0]!.n).toBe(N);

    const runs = [...a.logLines().slice(logsBefore.a).map((l): Record<string, any> => ({ ...l, instance: 'A' })), ...b.logLines().slice(logsBefore.b).map((l): Record<string, any> => ({ ...l, instance: 'B' }))]
      .filter((l) => String(l.msg).startsWith('retention cleanup'));
    const tally = runs.reduce<Record<string, number>>((acc, l) => ((acc[`${l.instance}: ${l.msg}`] = (acc[`${l.instance}: ${l.msg}`] ?? 0) + 1), acc), {});
    console.log(`[instances] retention log lines from the lock onwards: ${JSON.stringify(tally)}`);
    runs.splice(0, runs.length, ...runs.filter((l) => l.msg === 'retention cleanup'));
    const deleting = runs.filter((l) => l.memories + l.conversations + l.messages > 0);
    console.log(`[instances] retention: ${runs.length} sweeps ran after the lock was released (A ${runs.filter((r) => r.instance === 'A').length}, B ${runs.filter((r) => r.instance === 'B').length}); deleting runs: ${JSON.stringify(deleting.map(({ instance, memories, conversations, messages }) => ({ instance, memories, conversations, messages })))}`);
    expect(deleting).toHaveLength(1);
    expect(deleting[0]).toMatchObject({ memories: N, conversations: 1, messages: 3 });
  });
});
