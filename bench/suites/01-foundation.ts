/**
 * Foundation: GET /api/auth/profile (JWT verify + one read) on PostgreSQL and PGlite against
 * the bare node:http + pg baseline, at 8 and 32 connections; cold start of both storages.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, freshPostgresDatabase, load, type LoadResult, root, startServer } from '../lib.js';

async function startBaseline(databaseUrl: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/baseline-server.ts'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve) => child.stdout!.once('data', (d) => resolve(JSON.parse(String(d)).port)));
  return { url: `http://127.0.0.1:${port}`, stop: () => new Promise<void>((r) => (child.once('exit', () => r()), child.kill('SIGTERM'))) };
}

async function registerAndToken(base: string): Promise<{ token: string; userId: string }> {
  const res = await fetch(`${base}/api/auth/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'Bench', email: `bench-${Date.now()}@example.test`, password: 'password123' }),
  });
  const body = (await res.json()) as { data: { token: string; user: { id: string } } };
  return { token: body.data.token, userId: body.data.user.id };
}

export default async function run(): Promise<void> {
  const rows: Record<string, string | number>[] = [];
  const cold: Record<string, string | number>[] = [];
  const pgDb = await freshPostgresDatabase('foundation');
  try {
    // First start creates the embedded database (initdb); the figure that matters is a restart.
    const pgliteDir = mkdtempSync(join(tmpdir(), 'chimera-bench-'));
    const first = await startServer({}, 18102, pgliteDir);
    await first.stop();
    const servers = [
      { storage: 'postgres', server: await startServer({ DATABASE_URL: pgDb.url }, 18101) },
      { storage: 'pglite', server: await startServer({}, 18102, pgliteDir) },
    ];
    cold.push({ storage: 'pglite (first start, creates the database)', 'cold start → health 200 (ms)': fmt(first.coldStartMs, 0) });
    for (const s of servers) cold.push({ storage: s.storage, 'cold start → health 200 (ms)': fmt(s.server.coldStartMs, 0) });
    const pgUser = await registerAndToken(servers[0]!.server.url);
    const baseline = await startBaseline(pgDb.url);
    try {
      for (const connections of [8, 32]) {
        const base = await load({ url: `${baseline.url}/profile/${pgUser.userId}`, connections });
        const result = (label: string, r: LoadResult) =>
          rows.push({
            target: label,
            connections,
            'req/s': fmt(r.rps, 0),
            'p50 ms': r.p50,
            'p99 ms': r.p99,
            'throughput ×baseline': fmt(r.rps / base.rps, 2),
            'p99 ×baseline': fmt(r.p99 / Math.max(base.p99, 1), 2),
            errors: r.errors + r.non2xx,
          });
        result('baseline node:http+pg', base);
        for (const s of servers) {
          const user = s.storage === 'postgres' ? pgUser : await registerAndToken(s.server.url);
          const r = await load({ url: `${s.server.url}/api/auth/profile`, connections, headers: { authorization: `Bearer ${user.token}` } });
          result(`API on ${s.storage}`, r);
        }
      }
    } finally {
      await baseline.stop();
      for (const s of servers) await s.server.stop();
    }
  } finally {
    await pgDb.drop();
  }
  console.log('GET /api/auth/profile vs bare baseline (5 s per run; targets on PostgreSQL: ≥0.5× throughput, p99 ≤ 2× baseline)');
  console.table(rows);
  console.log('Cold start (targets: ≤ 2 s PostgreSQL, ≤ 4 s PGlite)');
  console.table(cold);
}
