/**
 * Chat proxy overhead: send-message through the API to the fake OpenAI server versus the
 * `openai` SDK calling the same fake directly, same prompt, 32 connections. Reports added
 * latency (p50/p99) for JSON replies and added time to the first delta when streaming.
 *
 * Three processes share the machine: this one (the load generator and the direct SDK
 * client), the API server, and the fake provider in its own process (so its CPU is not
 * charged to either side). Connections to the fake are kept alive, as with the real vendors.
 *
 * Three kinds of run:
 * - closed loop, 32 connections: every connection sends its next request as soon as the
 *   previous one is answered. This finds the throughput ceiling; its latencies are mostly
 *   queueing behind a saturated API (the machine has few cores), not proxy overhead.
 * - closed loop, 1 connection: the per-request cost without any queueing.
 * - open loop, 32 connections at a fixed arrival rate below the API's ceiling (the same rate
 *   for direct and through the API): requests are due on a fixed schedule spread over the
 *   32 connections and latency counts from when a request was due, so a late start counts.
 *   This is the 32-connection overhead figure. BENCH_CHAT_RATE sets the rate (req/s);
 *   by default it is half the API's closed-loop throughput measured just before.
 * Everything runs on 127.0.0.1.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import pg from 'pg';
import { cpuMs, fmt, freePort, freshPostgresDatabase, percentile, startServer, table } from '../lib.js';

const CONNECTIONS = 32;
const CLOSED_MS = 5000;
const OPEN_MS = Number(process.env.BENCH_CHAT_OPEN_SECONDS ?? 10) * 1000;
const PROMPT = 'Summarise the plan for the staging cluster in one sentence.';

/** A task sends one request on connection `worker`; it resolves to the performance.now() of the measured event. */
type Task = (worker: number) => Promise<number>;

interface Run {
  sorted: number[];
  errors: number;
  elapsedMs: number;
  /** Open loop: requests that could not start within 5 ms of their due time. */
  late?: number;
}

/** Runs `task` in `connections` loops for `durationMs`; latency from each request's start. */
async function closedLoop(task: Task, connections: number, durationMs = CLOSED_MS): Promise<Run> {
  const latencies: number[] = [];
  let errors = 0;
  const begin = performance.now();
  const until = begin + durationMs;
  await Promise.all(
    Array.from({ length: connections }, async (_, worker) => {
      while (performance.now() < until) {
        const started = performance.now();
        try {
          latencies.push((await task(worker)) - started);
        } catch {
          errors += 1;
        }
      }
    }),
  );
  return { sorted: latencies.sort((a, b) => a - b), errors, elapsedMs: performance.now() - begin };
}

/**
 * Requests due every 1000/rate ms, request i on connection i % connections (one at a time per
 * connection); latency from the due time, so waiting for a busy connection is counted.
 */
async function openLoop(task: Task, rate: number, connections: number, durationMs = OPEN_MS): Promise<Run> {
  const total = Math.max(1, Math.round((rate * durationMs) / 1000));
  const latencies: number[] = [];
  let errors = 0;
  let late = 0;
  const begin = performance.now() + 20;
  await Promise.all(
    Array.from({ length: connections }, async (_, worker) => {
      for (let i = worker; i < total; i += connections) {
        const due = begin + (i * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (performance.now() - due > 5) late += 1;
        try {
          latencies.push((await task(worker)) - due);
        } catch {
          errors += 1;
        }
      }
    }),
  );
  return { sorted: latencies.sort((a, b) => a - b), errors, late, elapsedMs: performance.now() - begin };
}

/** The fake providers in a child process; resolves once it listens. */
async function startFakeProcess(): Promise<{ env: Record<string, string>; pid: number; stop(): Promise<void> }> {
  const child = fork(fileURLToPath(new URL('../fake-provider-process.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const message = await new Promise<{ env: Record<string, string>; pid: number }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { env: Record<string, string>; pid: number }));
    child.once('exit', (code) => reject(new Error(`fake provider process exited with ${code}`)));
  });
  return {
    ...message,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.disconnect();
      }),
  };
}

/** The workspace register created for the bench user (the only one in the fresh database). */
async function defaultWorkspace(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ id: string }>('SELECT id FROM workspaces LIMIT 1')).rows[0]!.id;
  } finally {
    await client.end();
  }
}

export default async function run() {
  const fake = await startFakeProcess();
  const database = await freshPostgresDatabase('chat');
  const server = await startServer({ DATABASE_URL: database.url, DATABASE_POOL_SIZE: '20', ...fake.env }, await freePort());
  try {
    const api = (path: string, init: RequestInit & { token?: string } = {}) =>
      fetch(`${server.url}/api${path}`, {
        ...init,
        headers: { 'content-type': 'application/json', ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...(init.headers ?? {}) },
      });
    const reg = await (await api('/auth/register', { method: 'POST', body: JSON.stringify({ name: 'Bench', email: `bench-${Date.now()}@example.test`, password: 'password123' }) })).json();
    const token: string = reg.data.token;
    const apiKey = 'sk-ok-benchmark000';
    await api('/integrations', { method: 'POST', token, body: JSON.stringify({ provider: 'openai', apiKey }) });
    const workspaceId = await defaultWorkspace(database.url);
    // One conversation per connection, as real users each talk in their own.
    const conversations: string[] = [];
    for (let i = 0; i < CONNECTIONS; i++) {
      const conv = await (await api(`/workspaces/${workspaceId}/conversations`, { method: 'POST', token, body: JSON.stringify({ modelId: 'model-gpt-4o' }) })).json();
      conversations.push(conv.data.id);
    }
    const sdk = new OpenAI({ apiKey, baseURL: fake.env.OPENAI_BASE_URL!, maxRetries: 0 });
    const messages = [{ role: 'system' as const, content: 'You are a helpful AI assistant in the Chimera Protocol system.' }, { role: 'user' as const, content: PROMPT }];

    const viaApi = (stream: boolean): Task => async (worker) => {
      const res = await api(`/conversations/${conversations[worker]}/messages`, { method: 'POST', token, body: JSON.stringify({ content: PROMPT, stream }) });
      if (!stream) {
        if (res.status !== 201) throw new Error(String(res.status));
        await res.arrayBuffer();
        return performance.now();
      }
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      let first = 0;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        if (!first && text.includes('event: delta')) first = performance.now();
      }
      if (!first || !text.includes('event: done')) throw new Error('stream without delta/done');
      return first;
    };
    const direct = (stream: boolean): Task => async () => {
      if (!stream) {
        await sdk.chat.completions.create({ model: 'gpt-4o', messages, temperature: 0.7, max_tokens: 2000 });
        return performance.now();
      }
      let first = 0;
      const s = await sdk.chat.completions.create({ model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } });
      for await (const chunk of s) if (!first && chunk.choices[0]?.delta?.content) first = performance.now();
      if (!first) throw new Error('stream without delta');
      return first;
    };

    // warm-up (JIT, connection pools)
    for (const stream of [false, true]) {
      await Promise.all(conversations.map((_, i) => viaApi(stream)(i)));
      await Promise.all(conversations.map(() => direct(stream)(0)));
    }

    const cases = [
      ['json', 'direct', direct(false)],
      ['json', 'api', viaApi(false)],
      ['first delta', 'direct', direct(true)],
      ['first delta', 'api', viaApi(true)],
    ] as const;
    const rows: Record<string, string | number>[] = [];
    const results = new Map<string, Run>();
    const measure = async (name: string, go: () => Promise<Run>) => {
      const pids = [server.process.pid, fake.pid, process.pid];
      const before = pids.map(cpuMs);
      const r = await go();
      const [apiCpu, fakeCpu, genCpu] = pids.map((pid, i) => (cpuMs(pid) - before[i]!) / Math.max(1, r.sorted.length));
      results.set(name, r);
      rows.push({
        case: name,
        requests: r.sorted.length,
        'req/s': fmt(r.sorted.length / (r.elapsedMs / 1000)),
        'p50 ms': fmt(percentile(r.sorted, 50), 2),
        'p99 ms': fmt(percentile(r.sorted, 99), 2),
        errors: r.errors,
        late: r.late ?? '',
        'CPU ms/req api': fmt(apiCpu!, 2),
        'fake': fmt(fakeCpu!, 2),
        'load gen': fmt(genCpu!, 2),
      });
    };

    for (const connections of [CONNECTIONS, 1]) {
      for (const [kind, path, task] of cases) {
        await measure(`${kind} ${path} closed x${connections}`, () => closedLoop(task, connections));
      }
    }
    const ceiling = Math.min(...['json', 'first delta'].map((k) => {
      const r = results.get(`${k} api closed x${CONNECTIONS}`)!;
      return r.sorted.length / (r.elapsedMs / 1000);
    }));
    const rate = Number(process.env.BENCH_CHAT_RATE ?? 0) || Math.max(1, Math.round(ceiling / 2));
    for (const [kind, path, task] of cases) {
      await measure(`${kind} ${path} open ${rate}/s x${CONNECTIONS}`, () => openLoop(task, rate, CONNECTIONS));
    }

    table(rows);
    console.log(
      'Rows: "closed xN" = N connections each sending its next request as soon as the previous is answered; ' +
        `"open R/s x${CONNECTIONS}" = requests due at a fixed R per second over ${CONNECTIONS} connections, latency from the due time ` +
        '("late" = requests that started over 5 ms after their due time). "json" = the whole reply; "first delta" = ' +
        'time to the first streamed text. "CPU ms/req" = CPU time of the API server, the fake provider and this load ' +
        'generator (with the direct SDK client) per request during the row.',
    );
    console.log(`API closed-loop ceiling at ${CONNECTIONS} connections: ${fmt(ceiling)} req/s; open-loop rate ${rate} req/s${process.env.BENCH_CHAT_RATE ? ' (BENCH_CHAT_RATE)' : ' (half the ceiling)'}.`);
    const added = (kind: string, mode: string, p: number) =>
      fmt(percentile(results.get(`${kind} api ${mode}`)!.sorted, p) - percentile(results.get(`${kind} direct ${mode}`)!.sorted, p), 2);
    const lines: [string, string][] = [
      [`open ${rate}/s x${CONNECTIONS}`, `${CONNECTIONS} connections at ${rate} req/s (below saturation; the target figure)`],
      ['closed x1', '1 connection, closed loop (per-request cost)'],
      [`closed x${CONNECTIONS}`, `${CONNECTIONS} connections, closed loop (saturated: queueing, not overhead)`],
    ];
    for (const [mode, label] of lines) {
      for (const kind of ['json', 'first delta'] as const) {
        const what = kind === 'json' ? 'send-message added latency' : 'streaming time to first delta added';
        console.log(`${what}, ${label}: p50 +${added(kind, mode, 50)} ms, p99 +${added(kind, mode, 99)} ms (target ≤ 5 ms p50 at ${CONNECTIONS} connections)`);
      }
    }
  } finally {
    await server.stop();
    await fake.stop();
    await database.drop();
  }
}
