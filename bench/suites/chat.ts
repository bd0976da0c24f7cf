/**
 * Chat proxy overhead: send-message through the API to the fake OpenAI server versus the
 * `openai` SDK calling the same fake directly, same prompt, 32 concurrent connections.
 * Reports added latency (p50/p99) for JSON replies and added time to the first delta
 * when streaming. Everything runs on 127.0.0.1.
 */
import OpenAI from 'openai';
import pg from 'pg';
import { startFakeProviders } from '../../tests/support/fake-providers.js';
import { fmt, freshPostgresDatabase, startServer, table } from '../lib.js';

const CONNECTIONS = 32;
const DURATION_MS = 5000;
const PROMPT = 'Summarise the plan for the staging cluster in one sentence.';

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `task(worker)` in `connections` loops for DURATION_MS; returns sorted latencies (ms). */
async function closedLoop(task: (worker: number) => Promise<number>, connections = CONNECTIONS): Promise<{ sorted: number[]; errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  const until = performance.now() + DURATION_MS;
  await Promise.all(
    Array.from({ length: connections }, async (_, worker) => {
      while (performance.now() < until) {
        try {
          latencies.push(await task(worker));
        } catch {
          errors += 1;
        }
      }
    }),
  );
  return { sorted: latencies.sort((a, b) => a - b), errors };
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
  const fake = await startFakeProviders();
  const database = await freshPostgresDatabase('chat');
  const server = await startServer({ DATABASE_URL: database.url, DATABASE_POOL_SIZE: '20', ...fake.env }, 18_431);
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

    const viaApi = (stream: boolean) => async (worker: number) => {
      const started = performance.now();
      const res = await api(`/conversations/${conversations[worker]}/messages`, { method: 'POST', token, body: JSON.stringify({ content: PROMPT, stream }) });
      if (!stream) {
        if (res.status !== 201) throw new Error(String(res.status));
        await res.arrayBuffer();
        return performance.now() - started;
      }
      const reader = res.body!.getReader();
      let text = '';
      let first = 0;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
        if (!first && text.includes('event: delta')) first = performance.now() - started;
      }
      if (!first || !text.includes('event: done')) throw new Error('stream without delta/done');
      return first;
    };
    const direct = (stream: boolean) => async () => {
      const started = performance.now();
      if (!stream) {
        await sdk.chat.completions.create({ model: 'gpt-4o', messages, temperature: 0.7, max_tokens: 2000 });
        return performance.now() - started;
      }
      let first = 0;
      const s = await sdk.chat.completions.create({ model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } });
      for await (const chunk of s) if (!first && chunk.choices[0]?.delta?.content) first = performance.now() - started;
      return first;
    };

    // warm-up (JIT, connection pools)
    await Promise.all(conversations.slice(0, 4).map((_, i) => viaApi(false)(i)));

    const rows: Record<string, string | number>[] = [];
    const results: Record<string, { sorted: number[]; errors: number }> = {};
    const cases = [
      ['json', 'direct', direct(false)],
      ['json', 'api', viaApi(false)],
      ['first delta', 'direct', direct(true)],
      ['first delta', 'api', viaApi(true)],
    ] as const;
    // 32 connections (the target), and 1 connection: the per-request cost without queueing.
    for (const connections of [CONNECTIONS, 1]) {
      for (const [kind, path, task] of cases) {
        const name = `${kind} ${path} x${connections}`;
        const r = await closedLoop(task, connections);
        results[name] = r;
        rows.push({ case: name, requests: r.sorted.length, 'req/s': fmt(r.sorted.length / (DURATION_MS / 1000)), 'p50 ms': fmt(percentile(r.sorted, 50), 2), 'p99 ms': fmt(percentile(r.sorted, 99), 2), errors: r.errors });
      }
    }
    table(rows);
    for (const connections of [CONNECTIONS, 1]) {
      for (const kind of ['json', 'first delta'] as const) {
        const added = (p: number) => fmt(percentile(results[`${kind} api x${connections}`]!.sorted, p) - percentile(results[`${kind} direct x${connections}`]!.sorted, p), 2);
        const what = kind === 'json' ? 'send-message added latency' : 'streaming time to first delta added';
        console.log(`${what}, ${connections} connection(s): p50 +${added(50)} ms, p99 +${added(99)} ms (target ≤ 5 ms p50 at ${CONNECTIONS})`);
      }
    }
  } finally {
    await server.stop();
    await fake.close();
    await database.drop();
  }
}
