/**
 * A soak run: a real server process on a throwaway PostgreSQL database (loopback only), the fake
 * LLM providers, the tiny embedding model; N users registered with workspaces, conversations,
 * memories and invitations; then the load mix (bench/load-mix.ts) for the given duration, with
 * the server's RSS (/proc/<pid>/status VmRSS) and event-loop delay (GET /api/health) sampled
 * every 10 s. Used by tests/reliability/soak.test.ts and `npm run soak`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeProviders } from '../tests/support/fake-providers.js';
import { TINY_MODEL_NAME, writeTinyModel } from '../tests/support/tiny-model.js';
import { type ClassRate, type MixResult, pageCounts, pageOf, PAGE_SHARES, PAGES, runMix, seedContent, type SimUser, targetRates } from './load-mix.js';
import { cpuMs, freshPostgresDatabase, startServer } from './lib.js';

export const SAMPLE_EVERY_MS = 10_000;

export interface Sample {
  /** Seconds since the load started. */
  t: number;
  rssMb: number;
  /** CPU the server used since the previous sample, as a share of one core (1 = 100%). */
  cpu: number;
  /** The server's eventLoop health figures (its last complete 10 s window); null if health did not answer. */
  eventLoop: { p50: number; p99: number; max: number; mean: number; utilization: number } | null;
}

export interface SoakReport {
  users: number;
  pages: Record<string, number>;
  rates: ClassRate[];
  seedSeconds: number;
  mix: MixResult;
  samples: Sample[];
  /** Least-squares slope of RSS over the second half of the run, MB per minute. */
  rssSlopeMbPerMin: number;
  /** The span that slope covers, minutes. */
  slopeWindowMinutes: number;
  /** The server was still running when the load ended (no crash). */
  serverAlive: boolean;
  /**
   * Server CPU time per answered request during the load (user + system, all its threads):
   * unlike latency, barely affected by other work on the machine; 1000 / it ≈ requests per
   * second one core sustains.
   */
  serverCpuMsPerRequest: number;
}

/**
 * The RSS slope (least squares, MB/min, over the second half of the run) a healthy server stays
 * under, once past its warm-up. Warm-up: for the first 2–3 minutes of load RSS climbs by
 * ~70–100 MB (V8 sizing its heap to the load, queued requests) and then stays flat (10-minute
 * run: −0.2 MB/min over minutes 5–10). Noise after that is steps, not a slope: the allocator and
 * V8 grow once and stay; a step of h MB in the middle of a window W minutes long reads as a
 * slope of 1.5 h / W. A leak is a slope: at the ~300 requests/s of 500 users, retaining 500
 * bytes per request (less than one retained request object or closure) is 9 MB/min; 20 KB per
 * request at the ~45 requests/s of a starved run is 54 MB/min. The limit is the larger of a
 * 6 MB/min floor and what a 30 MB step can fake: 9 MB/min over the 5-minute window of the
 * 10-minute run.
 */
export function rssSlopeLimit(windowMinutes: number): number {
  const FLOOR_MB_PER_MIN = 6;
  const GC_STEP_MB = 30;
  return Math.max(FLOOR_MB_PER_MIN, (1.5 * GC_STEP_MB) / Math.max(windowMinutes, 1 / 60));
}

/** A second half shorter than this still lies in the warm-up, where a slope says nothing. */
export const MIN_SLOPE_WINDOW_MINUTES = 2;

/**
 * What short runs assert instead: total RSS growth during the load. Warm-up adds ≤ ~100 MB;
 * more than 300 MB within a short run is a gross leak (≥ 20 KB per request at 300 requests/s).
 */
export const SHORT_RUN_RSS_GROWTH_LIMIT_MB = 300;

/** Least-squares slope of y over x. */
export function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

const cpuSeconds = (pid: number) => cpuMs(pid) / 1000;

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
  return Math.round((kb / 1024) * 10) / 10;
}

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

function client(base: string) {
  return async (token: string | null, method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as { ok: boolean; data: any };
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
    return json.data;
  };
}

/**
 * Registers `count` users through the API, each with the workspace registration makes, an
 * OpenAI integration on the fake provider, two conversations with a message each, two
 * memories; every fifth user invites the next one (half of them accept, so some workspaces
 * have a team and some inboxes a pending invitation).
 */
export async function seedUsers(base: string, count: number): Promise<SimUser[]> {
  const api = client(base);
  const counts = pageCounts(count);
  const run = randomBytes(4).toString('hex');
  const users: (SimUser & { email: string })[] = new Array(count);
  await pool([...Array(count).keys()], 8, async (i) => {
    const email = `soak-${run}-${i}@example.test`;
    const { token } = await api(null, 'POST', '/api/auth/register', { name: `Soak user ${i}`, email, password: 'soak password 123' });
    const { workspaces } = await api(token, 'GET', '/api/workspaces');
    const workspaceId = workspaces[0].id as string;
    await api(token, 'POST', '/api/integrations', { provider: 'openai', apiKey: `sk-soak-${run}-${i}` });
    const conversations: string[] = [];
    for (const title of ['Planning', 'Questions']) {
      const conv = await api(token, 'POST', `/api/workspaces/${workspaceId}/conversations`, { title, modelId: 'model-gpt-4o' });
      conversations.push(conv.id);
      await api(token, 'POST', `/api/conversations/${conv.id}/messages`, { content: `a note for the record in ${title}`, getAiResponse: false });
    }
    for (let m = 0; m < 2; m++) {
      await api(token, 'POST', `/api/workspaces/${workspaceId}/memories`, { title: `Memory ${m} of user ${i}`, content: seedContent(i + m), tags: ['seed'] });
    }
    users[i] = { index: i, token, email, workspaceId, conversationId: conversations[0]!, page: pageOf(i, counts) };
  });
  await pool(
    users.filter((u) => u.index % 5 === 0 && u.index + 1 < count),
    8,
    async (owner) => {
      const invitee = users[owner.index + 1]!;
      const invitation = await api(owner.token, 'POST', `/api/workspaces/${owner.workspaceId}/team/invite`, { email: invitee.email });
      if (owner.index % 10 === 0) await api(invitee.token, 'POST', `/api/invitations/${invitation.id}/accept`);
    },
  );
  return users.map(({ email: _email, ...user }) => user);
}

async function healthData(base: string): Promise<any> {
  const res = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(5000) });
  return ((await res.json()) as { data: any }).data;
}

/** Waits until the embedding model is loaded and every seeded memory is embedded (search is semantic then). */
async function embeddingsSettled(base: string, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { embeddings } = await healthData(base);
    if (embeddings.status === 'ready' && embeddings.backlog === 0) return;
    if (Date.now() > deadline) throw new Error(`embedding backlog did not drain: ${JSON.stringify(embeddings)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Waits until the server has worked off what the load left queued (requests whose clients
 * autocannon closed at the end): health answers quickly twice in a row, or 60 s have passed.
 */
async function drained(base: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let quick = 0;
  while (quick < 2 && Date.now() < deadline) {
    const started = performance.now();
    await healthData(base).catch(() => null);
    quick = performance.now() - started < 100 ? quick + 1 : 0;
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface SoakOptions {
  users: number;
  durationSeconds: number;
  /** Extra node flags for the server process (e.g. --cpu-prof to profile it). */
  serverNodeArgs?: string[];
  log?: (line: string) => void;
}

export async function runSoak({ users: userCount, durationSeconds, serverNodeArgs = [], log = console.log }: SoakOptions): Promise<SoakReport> {
  const fake = await startFakeProviders();
  const database = await freshPostgresDatabase('soak');
  const modelDir = mkdtempSync(join(tmpdir(), 'chimera-soak-model-'));
  writeTinyModel(modelDir);
  const server = await startServer({
    DATABASE_URL: database.url,
    JWT_SECRET: 'soak-secret-soak-secret-soak-secret-0123456789',
    ENCRYPTION_KEY: Buffer.alloc(32, 5).toString('base64'),
    EMBEDDING_MODEL_DIR: modelDir,
    EMBEDDING_MODEL: TINY_MODEL_NAME,
    EMBEDDING_THREADS: '1',
    ...fake.env,
  }, undefined, undefined, serverNodeArgs);
  const pid = server.process.pid!;
  try {
    const seedStarted = performance.now();
    const users = await seedUsers(server.url, userCount);
    const seededAt = performance.now();
    await embeddingsSettled(server.url);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    log(`seeded ${userCount} users in ${((seededAt - seedStarted) / 1000).toFixed(1)} s, embedded their memories in ${((performance.now() - seededAt) / 1000).toFixed(1)} s; load for ${durationSeconds} s`);

    const samples: Sample[] = [];
    const loadStarted = performance.now();
    const cpuAtStart = cpuSeconds(pid);
    let lastCpu = { at: loadStarted, used: cpuAtStart };
    const sample = async () => {
      const now = performance.now();
      const t = Math.round((now - loadStarted) / 100) / 10;
      const rss = rssMb(pid);
      const used = cpuSeconds(pid);
      const cpu = now > lastCpu.at ? (used - lastCpu.used) / ((now - lastCpu.at) / 1000) : 0;
      lastCpu = { at: now, used };
      let eventLoop: Sample['eventLoop'] = null;
      try {
        const { eventLoop: e } = await healthData(server.url);
        eventLoop = { ...e.delayMs, utilization: e.utilization };
      } catch {
        /* recorded as null: health did not answer within 5 s */
      }
      samples.push({ t, rssMb: rss, cpu, eventLoop });
      log(`  t=${String(t).padStart(5)} s  RSS ${rss.toFixed(1)} MB  CPU ${Math.round(cpu * 100)}%  event loop ${eventLoop ? `p50 ${eventLoop.p50} ms, p99 ${eventLoop.p99} ms, max ${eventLoop.max} ms, busy ${Math.round(eventLoop.utilization * 100)}%` : 'no answer'}`);
    };
    await sample();
    const timer = setInterval(() => void sample(), SAMPLE_EVERY_MS);
    let mix: MixResult;
    try {
      mix = await runMix(server.url, users, durationSeconds);
    } finally {
      clearInterval(timer);
    }
    await sample();
    const serverAlive = server.process.exitCode === null;
    await drained(server.url);
    const answered = mix.classes.reduce((n, c) => n + c.count, 0);
    const serverCpuMsPerRequest = answered ? ((cpuSeconds(pid) - cpuAtStart) * 1000) / answered : 0;

    const half = durationSeconds / 2;
    const window = samples.filter((s) => s.t >= half);
    const rssSlopeMbPerMin = slope(window.map((s) => ({ x: s.t / 60, y: s.rssMb })));
    const slopeWindowMinutes = window.length ? (window.at(-1)!.t - window[0]!.t) / 60 : 0;
    return { users: userCount, pages: pageCounts(userCount), rates: targetRates(userCount), seedSeconds, mix, samples, rssSlopeMbPerMin, slopeWindowMinutes, serverAlive, serverCpuMsPerRequest };
  } finally {
    await server.stop();
    await fake.close();
    await database.drop();
  }
}

const f = (n: number, d = 1) => n.toFixed(d);

/** The rate the users produce, computed from the timers (printed before the run). */
export function printRates(users: number, log = console.log): void {
  const counts = pageCounts(users);
  log(`${users} users: ${PAGES.map((p) => `${counts[p]} on ${p} (${PAGE_SHARES[p] * 100}%)`).join(', ')}`);
  const rates = targetRates(users);
  for (const r of rates) log(`  ${r.name.padEnd(19)} ${f(r.rate, 2).padStart(7)} req/s  ${r.source}`);
  log(`  ${'total'.padEnd(19)} ${f(rates.reduce((s, r) => s + r.rate, 0), 2).padStart(7)} req/s`);
}

export function printReport(report: SoakReport, log = console.log): void {
  const { mix } = report;
  log(`\nload: ${f(mix.durationSeconds)} s, ${mix.connections} connections, target ${f(mix.target)} req/s, achieved ${f(mix.achieved)} req/s`);
  console.table(
    mix.classes.map((c) => ({
      class: c.name,
      'target/s': f(c.target, 2),
      'achieved/s': f(c.achieved, 2),
      requests: c.count,
      answers: Object.entries(c.ok).map(([s, n]) => `${n}×${s}`).join(' '),
      failures: Object.entries(c.failures).map(([s, n]) => `${n}×${s}`).join(' ') || '0',
      'p50 ms': f(c.p50),
      'p99 ms': f(c.p99),
      'max ms': f(c.max),
    })),
  );
  log(`connection errors ${mix.errors}, timeouts ${mix.timeouts}`);
  log(`server CPU per answered request: ${f(report.serverCpuMsPerRequest, 2)} ms (≈ ${f(1000 / report.serverCpuMsPerRequest, 0)} requests/s per core)`);
  for (const s of mix.failureSamples) log(`  failure: ${s}`);
  const limit = rssSlopeLimit(report.slopeWindowMinutes);
  const growth = report.samples.length ? report.samples.at(-1)!.rssMb - report.samples[0]!.rssMb : 0;
  log(`RSS ${f(report.samples[0]?.rssMb ?? 0)} → ${f(report.samples.at(-1)?.rssMb ?? 0)} MB during the load (${growth >= 0 ? '+' : ''}${f(growth)} MB)`);
  const verdict = report.slopeWindowMinutes < MIN_SLOPE_WINDOW_MINUTES ? 'window too short to judge past warm-up' : report.rssSlopeMbPerMin < limit ? 'bounded' : 'GROWING';
  log(`RSS slope over the second half (${f(report.slopeWindowMinutes, 2)} min): ${f(report.rssSlopeMbPerMin, 2)} MB/min (limit ${f(limit)} MB/min: ${verdict})`);
}
