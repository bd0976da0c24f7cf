/** Shared bench helpers: start the real server as a child process, load it with autocannon. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const PG_ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface RunningServer {
  url: string;
  process: ChildProcess;
  /** Milliseconds from spawn to the first healthy /api/health answer. */
  coldStartMs: number;
  stop(): Promise<void>;
}

export async function freshPostgresDatabase(label: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `chimera_bench_${label}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts `npm start`'s entry (the compiled server in dist/) with the given env on `port` (a free one when omitted) and waits
 * for health. `extraNodeArgs` (after BENCH_SERVER_NODE_ARGS) go to node itself (e.g. `--cpu-prof`, which NODE_OPTIONS refuses).
 */
let built = false;

export async function startServer(env: Record<string, string>, port?: number, dataDir = mkdtempSync(join(tmpdir(), 'chimera-bench-')), extraNodeArgs: string[] = []): Promise<RunningServer> {
  if (!built) {
    // What `npm start` does first (prestart); not part of the cold start, as on any restart.
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
    built = true;
  }
  port ??= await freePort();
  // BENCH_SERVER_NODE_ARGS passes flags to the server's node, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
  const nodeArgs = [...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean), ...extraNodeArgs];
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, 'dist/server.js'], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      DATA_DIR: dataDir,
      AUTH_RATE_LIMIT_PER_IP: '1000000',
      AUTH_RATE_LIMIT_PER_EMAIL: '1000000',
      BCRYPT_COST: '10', // the least a non-test server accepts
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/api/health`);
      if (res.status === 200) break;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const coldStartMs = performance.now() - started;
  return {
    url,
    process: child,
    coldStartMs,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * CPU milliseconds (user + system) process `pid` has used: this process's own usage, else
 * /proc/<pid>/stat (Linux, clock ticks of 10 ms); NaN where neither can be read.
 */
export function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  if (pid === process.pid) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime (USER_HZ 100)
  } catch {
    return Number.NaN;
  }
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** CPU time of the serving process per answered request (µs), when its pid was given. */
  cpuUsPerRequest: number;
}

/** A load run: autocannon's options, and the pid of the process serving it to measure its CPU. */
export type LoadOptions = autocannon.Options & { pid?: number };

export async function load({ pid, ...options }: LoadOptions): Promise<LoadResult> {
  const cpuBefore = cpuMs(pid);
  const result = await autocannon({ duration: 5, ...options });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    cpuUsPerRequest: ((cpuMs(pid) - cpuBefore) * 1000) / Math.max(1, result.requests.total),
  };
}

export const fmt = (n: number, digits = 1) => n.toFixed(digits);

/** The p-th percentile (0–100) of ascending `sorted`, by rank floor(p% × n); NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function table(rows: Record<string, string | number>[]): void {
  console.table(rows);
}

/**
 * Loads the targets one after another, `rounds` times over. A shared machine has noisy
 * periods; interleaving puts the baseline and the API in the same periods, and a ratio is
 * taken per round (`median` of those is what the suites report). Each run gets a 1 s warm-up.
 */
export async function interleaved<K extends string>(targets: Record<K, LoadOptions>, rounds = 3): Promise<Record<K, LoadResult[]>> {
  const out = Object.fromEntries(Object.keys(targets).map((k) => [k, [] as LoadResult[]])) as Record<K, LoadResult[]>;
  for (let round = 0; round < rounds; round++) {
    for (const key of Object.keys(targets) as K[]) {
      await load({ ...targets[key], duration: 1 });
      out[key].push(await load(targets[key]));
    }
  }
  return out;
}

/** The median of numbers (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The run of `runs` whose throughput is the median one (odd counts), for its latencies. */
export function medianRun(runs: LoadResult[]): LoadResult {
  return [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)]!;
}

/** A deterministic generator of numbers in [0, 1). */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 4294967296;
  };
}

/** A random unit vector of `dims` dimensions (384 by default, as MiniLM). */
export function unitVector(rand: () => number, dims = 384): Float32Array {
  const v = new Float32Array(dims);
  let n = 0;
  for (let i = 0; i < dims; i++) {
    v[i] = rand() * 2 - 1;
    n += v[i]! * v[i]!;
  }
  n = Math.sqrt(n);
  for (let i = 0; i < dims; i++) v[i]! /= n;
  return v;
}
