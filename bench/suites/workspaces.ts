/**
 * GET /api/workspaces for a user with 20 workspaces × (1,000 memories, 200 conversations,
 * 5,000 messages) on a fresh PostgreSQL database: p50/p99 at 8 connections (also with the
 * If-None-Match of the frontend's unchanged poll, answered 304), throughput
 * against a bare node:http + pg server doing one single-row SELECT (same run, same
 * connections), and the SQL statements one request sends.
 *
 * Query count: the app is also mounted in this process over the same database with
 * pg's Client.prototype.query wrapped; every statement Prisma's pg adapter sends (pooled
 * queries and transaction statements alike) goes through it, so the count is exact.
 */
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { createApp } from '../../src/app.js';
import { createDeps, createLogger } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config/env.js';
import { fmt, freshPostgresDatabase, interleaved, type LoadResult, median, medianRun, root, startServer, table } from '../lib.js';

const WORKSPACES = 20;
const MEMORIES = 1000;
const CONVERSATIONS = 200;
const MESSAGES_PER_CONVERSATION = 25; // 5,000 per workspace
const CONNECTIONS = 8;
/** Rounds of the four cases in turn (see `interleaved`). */
const ROUNDS = 3;
const SECRETS = { JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123', ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64') };

async function register(url: string, label: string) {
  const res = await fetch(`${url}/api/auth/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: `Bench ${label}`, email: `${label}-${Date.now()}@bench.test`, password: 'bench-password' }),
  });
  const body = (await res.json()) as { data: { token: string; user: { id: string } } };
  return { token: body.data.token, userId: body.data.user.id };
}

/** Bulk content with set-based inserts (the counters' statement triggers run once per statement). */
async function seed(databaseUrl: string, userId: string) {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const started = performance.now();
  await db.query(
    `INSERT INTO workspaces (id, name, description, owner_id, created_at, updated_at)
     SELECT 'workspace-' || lpad(to_hex(g), 12, '0'), 'Bench workspace ' || g, '', $1, now(), now() - g * interval '1 minute'
       FROM generate_series(1, $2::int) g`,
    [userId, WORKSPACES - 1],
  );
  await db.query(
    `INSERT INTO team_members (id, user_id, workspace_id, role, status)
     SELECT 'tm-' || lpad(to_hex(g), 12, '0'), $1, 'workspace-' || lpad(to_hex(g), 12, '0'), 'admin', 'online'
       FROM generate_series(1, $2::int) g`,
    [userId, WORKSPACES - 1],
  );
  const owned = `(SELECT id, row_number() OVER (ORDER BY id) AS n FROM workspaces WHERE owner_id = $1)`;
  await db.query(
    `INSERT INTO memories (id, workspace_id, title, content, snippet, embedding_status, created_at, updated_at)
     SELECT 'memory-' || lpad(to_hex(w.n * 100000 + g), 12, '0'), w.id, 'Memory ' || g, repeat('Some remembered content. ', 8), 'Some remembered content.',
            CASE WHEN g % 4 = 0 THEN 'pending' ELSE 'ready' END, now() - g * interval '5 minutes', now() - g * interval '5 minutes'
       FROM ${owned} w, generate_series(1, $2::int) g`,
    [userId, MEMORIES],
  );
  await db.query(
    `INSERT INTO conversations (id, workspace_id, title, model_id, status, created_at, updated_at)
     SELECT 'conv-' || lpad(to_hex(w.n * 100000 + g), 12, '0'), w.id, 'Conversation ' || g, 'model-gpt-4o',
            CASE WHEN g % 20 = 0 THEN 'active' ELSE 'completed' END, now() - g * interval '1 hour', now() - g * interval '30 minutes'
       FROM ${owned} w, generate_series(1, $2::int) g`,
    [userId, CONVERSATIONS],
  );
  await db.query(
    `INSERT INTO chat_messages (id, conversation_id, role, content, metadata, timestamp)
     SELECT 'msg-' || lpad(to_hex(c.n * 100 + g), 12, '0'), c.id, CASE WHEN g % 2 = 0 THEN 'assistant' ELSE 'user' END,
            'A message of a benchmark conversation.', '{}', now() - ((c.n * 7 + g * 13) % 20000) * interval '1 minute'
       FROM (SELECT c.id, row_number() OVER (ORDER BY c.id) AS n FROM conversations c JOIN workspaces w ON w.id = c.workspace_id WHERE w.owner_id = $1) c,
            generate_series(1, $2::int) g`,
    [userId, MESSAGES_PER_CONVERSATION],
  );
  await db.query('VACUUM ANALYZE');
  const counts = await db.query(
    `SELECT (SELECT count(*) FROM workspaces)::int AS workspaces, (SELECT count(*) FROM memories)::int AS memories,
            (SELECT count(*) FROM conversations)::int AS conversations, (SELECT count(*) FROM chat_messages)::int AS messages`,
  );
  await db.end();
  return { ...counts.rows[0], seconds: (performance.now() - started) / 1000 };
}

/** The Foundation's bare baseline: node:http + pg, one single-row SELECT by id per request. */
const BARE_SERVER = `
import http from 'node:http';
import pg from 'pg';
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const id = process.env.USER_ID;
http.createServer(async (req, res) => {
  const { rows } = await pool.query('SELECT id, name, email FROM users WHERE id = $1', [id]);
  const body = JSON.stringify({ ok: true, data: rows[0], error: null });
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('ready'));
`;

async function startBare(databaseUrl: string, userId: string, port: number) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', BARE_SERVER], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl, USER_ID: userId, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`bare server exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => new Promise<void>((r) => { child.once('exit', () => r()); child.kill('SIGTERM'); }) };
}

/** Statements per GET /api/workspaces, counted in-process on the same database. */
async function countQueries(databaseUrl: string, tokens: { label: string; token: string }[]) {
  const original = pg.Client.prototype.query;
  let statements = 0;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    statements++;
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  const config = loadConfig({ ...SECRETS, DATABASE_URL: databaseUrl, NODE_ENV: 'test', LOG_LEVEL: 'warn', DATA_DIR: '/tmp/chimera-bench-count' });
  const deps = await createDeps(config, { logger: createLogger(config) });
  const server = createApp(deps).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/workspaces`;
  const out: Record<string, number> = {};
  try {
    for (const { label, token } of tokens) {
      const get = () => fetch(url, { headers: { Authorization: `Bearer ${token}` } }).then((r) => r.arrayBuffer());
      await get(); // warm the pool
      statements = 0;
      const runs = 5;
      for (let i = 0; i < runs; i++) await get();
      out[label] = statements / runs;
    }
  } finally {
    pg.Client.prototype.query = original;
    server.close();
    await deps.db.close();
  }
  return out;
}

export default async function run() {
  const database = await freshPostgresDatabase('workspaces');
  const server = await startServer({ ...SECRETS, DATABASE_URL: database.url, DATABASE_POOL_SIZE: '10' }, 18431);
  let bare: Awaited<ReturnType<typeof startBare>> | undefined;
  try {
    const heavy = await register(server.url, 'heavy');
    const light = await register(server.url, 'light');
    const seeded = await seed(database.url, heavy.userId);
    console.log(`seeded ${seeded.workspaces} workspaces, ${seeded.memories} memories, ${seeded.conversations} conversations, ${seeded.messages} messages in ${fmt(seeded.seconds)} s`);

    const check = await fetch(`${server.url}/api/workspaces`, { headers: { Authorization: `Bearer ${heavy.token}` } });
    const listed = (await check.json()) as { data: { total: number; workspaces: { stats: Record<string, unknown> }[] } };
    console.log(`GET /api/workspaces → ${check.status}, total ${listed.data.total}; first stats ${JSON.stringify(listed.data.workspaces[0]?.stats)}`);

    const headers = { Authorization: `Bearer ${heavy.token}` };
    // The frontend's poll when nothing changed: If-None-Match with the last ETag → 304 (D21).
    const etag = check.headers.get('etag') ?? '';
    bare = await startBare(database.url, heavy.userId, 18432);
    const runs = await interleaved({
      api: { url: `${server.url}/api/workspaces`, connections: CONNECTIONS, headers, pid: server.process.pid },
      notModified: { url: `${server.url}/api/workspaces`, connections: CONNECTIONS, headers: { ...headers, 'If-None-Match': etag }, pid: server.process.pid },
      // The cheapest authenticated route of the same server (one query), to separate the cost
      // of the workspace list from the per-request cost every route pays.
      profile: { url: `${server.url}/api/auth/profile`, connections: CONNECTIONS, headers, pid: server.process.pid },
      baseline: { url: bare.url, connections: CONNECTIONS },
    }, ROUNDS);
    await bare.stop();
    bare = undefined;
    const [api, notModified, profile, baseline] = [runs.api, runs.notModified, runs.profile, runs.baseline].map(medianRun) as [LoadResult, LoadResult, LoadResult, LoadResult];
    const perRound = (of: LoadResult[], to: LoadResult[]) => of.map((r, i) => r.rps / to[i]!.rps);

    const queries = await countQueries(database.url, [
      { label: `${WORKSPACES} workspaces`, token: heavy.token },
      { label: '1 workspace', token: light.token },
    ]);
    const ratio = median(perRound(runs.api, runs.baseline));
    table([
      { case: `GET /api/workspaces (${WORKSPACES} ws)`, 'req/s': fmt(api.rps), 'p50 ms': api.p50, 'p99 ms': api.p99, 'server CPU µs': fmt(api.cpuUsPerRequest, 0), errors: api.errors, non2xx: api.non2xx },
      { case: `  same, If-None-Match → 304`, 'req/s': fmt(notModified.rps), 'p50 ms': notModified.p50, 'p99 ms': notModified.p99, 'server CPU µs': fmt(notModified.cpuUsPerRequest, 0), errors: notModified.errors, non2xx: `${notModified.non2xx} (304s)` },
      { case: 'GET /api/auth/profile (same server)', 'req/s': fmt(profile.rps), 'p50 ms': profile.p50, 'p99 ms': profile.p99, 'server CPU µs': fmt(profile.cpuUsPerRequest, 0), errors: profile.errors, non2xx: profile.non2xx },
      { case: 'bare node:http + pg, 1-row SELECT', 'req/s': fmt(baseline.rps), 'p50 ms': baseline.p50, 'p99 ms': baseline.p99, 'server CPU µs': '', errors: baseline.errors, non2xx: baseline.non2xx },
    ]);
    console.log(`throughput ratio vs bare baseline: ${fmt(ratio, 2)}× (target ≥ 0.25×) ${ratio >= 0.25 ? 'OK' : 'BELOW TARGET'}; per round ${perRound(runs.api, runs.baseline).map((x) => fmt(x, 2)).join(' / ')} (${ROUNDS} interleaved rounds of 5 s per case; the median round's req/s and latencies above)`);
    console.log(`throughput ratio vs GET /api/auth/profile: ${fmt(median(perRound(runs.api, runs.profile)), 2)}×`);
    for (const [label, n] of Object.entries(queries)) {
      console.log(`SQL statements per GET /api/workspaces (${label}): ${fmt(n, 1)} (target < 10) ${n < 10 ? 'OK' : 'ABOVE TARGET'}`);
    }
  } finally {
    await bare?.stop();
    await server.stop();
    await database.drop();
  }
}
