/**
 * Foundation: GET /api/auth/profile (JWT verify + one read) on PostgreSQL and PGlite against
 * the bare node:http + pg baseline, at 8 and 32 connections; cold start of both storages.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, freshPostgresDatabase, interleaved, median, medianRun, root, startServer } from '../lib.js';

/** Rounds of baseline, API on PostgreSQL, API on PGlite, in turn (see `interleaved`). */
const ROUNDS = 3;

async function startBaseline(databaseUrl: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/baseline-server.ts'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve) => child.stdout!.once('data', (d) => resolve(JSON.parse(String(d)).port)));
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop: () => new Promise<void>((r) => (child.once('exit', () => r()), child.kill('SIGTERM'))) };
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
    const liteUser = await registerAndToken(servers[1]!.server.url);
    const baseline = await startBaseline(pgDb.url);
    try {
      for (const connections of [8, 32]) {
        const runs = await interleaved({
          baseline: { url: `${baseline.url}/profile/${pgUser.userId}`, connections, pid: baseline.pid },
          postgres: { url: `${servers[0]!.server.url}/api/auth/profile`, connections, headers: { authorization: `Bearer ${pgUser.token}` }, pid: servers[0]!.server.process.pid },
          pglite: { url: `${servers[1]!.server.url}/api/auth/profile`, connections, headers: { authorization: `Bearer ${liteUser.token}` }, pid: servers[1]!.server.process.pid },
        }, ROUNDS);
        const ratios = (key: 'postgres' | 'pglite', of: 'rps' | 'p99') => runs[key].map((r, i) => r[of] / Math.max(runs.baseline[i]![of], 1));
        const result = (label: string, key: 'baseline' | 'postgres' | 'pglite') => {
          const r = medianRun(runs[key]);
          rows.push({
            target: label,
            connections,
            'req/s': fmt(r.rps, 0),
            'p50 ms': r.p50,
            'p99 ms': r.p99,
            'throughput ×baseline': key === 'baseline' ? '1.00' : fmt(median(ratios(key, 'rps')), 2),
            'p99 ×baseline': key === 'baseline' ? '1.00' : fmt(median(ratios(key, 'p99')), 2),
            'server CPU µs/req': fmt(median(runs[key].map((x) => x.cpuUsPerRequest)), 0),
            'ratio per round': key === 'baseline' ? runs.baseline.map((b) => fmt(b.rps, 0)).join(' / ') + ' req/s' : ratios(key, 'rps').map((x) => fmt(x, 2)).join(' / '),
            errors: runs[key].reduce((n, x) => n + x.errors + x.non2xx, 0),
          });
        };
        result('baseline node:http+pg', 'baseline');
        result('API on postgres', 'postgres');
        result('API on pglite', 'pglite');
      }
    } finally {
      await baseline.stop();
      for (const s of servers) await s.server.stop();
    }
  } finally {
    await pgDb.drop();
  }
  console.log(`GET /api/auth/profile vs bare baseline (${ROUNDS} interleaved rounds of 5 s per target; ratios: the median of the rounds' ratios; req/s and latencies: the median round; server CPU: the serving process's user + system time per request, median of the rounds (PGlite's database runs inside it); targets on PostgreSQL: ≥0.5× throughput, p99 ≤ 2× baseline)`);
  console.table(rows);
  console.log('Cold start (targets: ≤ 2 s PostgreSQL, ≤ 4 s PGlite)');
  console.table(cold);
}
