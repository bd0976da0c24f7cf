/**
 * The polled answers as a memory bank grows (issue 21, contract §1.13), on a fresh PostgreSQL
 * database against the compiled server: the whole memory list (the default answer) at 1,000,
 * 10,000 and 50,000 memories of 80 words, and one conversation with 500 and 5,000 messages.
 * For each: the full answer's p50/p99 and bytes on the wire gzip-coded (what a browser gets
 * over plain HTTP), brotli-coded and plain, and the 304 of an unchanged poll (If-None-Match)
 * p50/p99. Requests go one at a time over a kept-alive connection, so a latency is one
 * request's time from the first byte sent to the last byte received on loopback: the server's
 * time plus a loopback transfer, and on a shared machine the time it waited for a core; the
 * server's CPU time per request (user + system, its zlib threads included) is printed beside
 * it. Prints the load average before and after.
 *
 * Text is drawn from a 5,000-word vocabulary with Zipf frequencies (as words are in English),
 * so it compresses about as natural text does; memories are not embedded (the `embedding`
 * field is null: an embedded memory adds its 384 rounded numbers, about 3 kB plain).
 */
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import pg from 'pg';
import { cpuMs, fmt, freshPostgresDatabase, percentile, startServer, table } from '../lib.js';

const SIZES = [1000, 10_000, 50_000];
const CONVERSATION_SIZES = [500, 5000];
const SECRETS = { JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123', ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64') };

export function prng(seed: number) {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 4294967296;
  };
}

const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'ta', 'shi', 'po', 've', 'da', 'gen', 'tor', 'lan', 'mer', 'sol', 'fin', 'bra', 'cle', 'dro', 'pex'];
const VOCABULARY = Array.from({ length: 5000 }, (_, i) => {
  let word = '';
  let n = i + 1;
  do {
    word += SYLLABLES[n % SYLLABLES.length];
    n = Math.floor(n / SYLLABLES.length);
  } while (n > 0);
  return word;
});
/** Cumulative Zipf(1) weights of the vocabulary. */
const CDF = (() => {
  const h = VOCABULARY.reduce((s, _, i) => s + 1 / (i + 1), 0);
  let acc = 0;
  return VOCABULARY.map((_, i) => (acc += 1 / (i + 1) / h));
})();

function textOf(rand: () => number, words: number): string {
  const out: string[] = [];
  for (let w = 0; w < words; w++) {
    const r = rand();
    let lo = 0;
    let hi = CDF.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (CDF[mid]! < r) lo = mid + 1;
      else hi = mid;
    }
    out.push(VOCABULARY[lo]!);
  }
  return out.join(' ');
}

const snippetOf = (content: string) => (content.length > 150 ? `${content.slice(0, 150)}...` : content);

/** Adds memories `from`..`to`-1 to the workspace, 5,000 rows a statement. */
export async function addMemories(db: pg.Client, workspaceId: string, authorId: string, from: number, to: number, rand: () => number) {
  for (let start = from; start < to; start += 5000) {
    const n = Math.min(5000, to - start);
    const ids: string[] = [];
    const titles: string[] = [];
    const contents: string[] = [];
    const snippets: string[] = [];
    const times: string[] = [];
    for (let i = 0; i < n; i++) {
      const k = start + i;
      const content = textOf(rand, 80);
      ids.push(`memory-${k.toString(16).padStart(12, '0')}`);
      titles.push(textOf(rand, 4));
      contents.push(content);
      snippets.push(snippetOf(content));
      times.push(new Date(Date.UTC(2026, 10, 1) + k * 60_000).toISOString());
    }
    await db.query(
      `INSERT INTO memories (id, workspace_id, author_id, title, content, snippet, tags, metadata, embedding_status, created_at, updated_at)
       SELECT i, $1, $2::uuid, t, c, s, ARRAY['bench']::text[], '{"source":"bench"}', 'pending', ts::timestamptz, ts::timestamptz
         FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u(i, t, c, s, ts)`,
      [workspaceId, authorId, ids, titles, contents, snippets, times],
    );
  }
  await db.query('VACUUM ANALYZE memories');
}

async function addMessages(db: pg.Client, conversationId: string, authorId: string, from: number, to: number, rand: () => number) {
  const ids: string[] = [];
  const contents: string[] = [];
  const times: string[] = [];
  for (let k = from; k < to; k++) {
    ids.push(`msg-${conversationId.slice(-6)}${k.toString(16).padStart(6, '0')}`);
    contents.push(textOf(rand, k % 2 === 0 ? 20 : 60));
    times.push(new Date(Date.UTC(2026, 10, 1) + k * 30_000).toISOString());
  }
  await db.query(
    `INSERT INTO chat_messages (id, conversation_id, role, content, metadata, author_id, timestamp)
     SELECT i, $1, CASE WHEN n % 2 = 1 THEN 'user' ELSE 'assistant' END, c,
            CASE WHEN n % 2 = 1 THEN '{}'::jsonb ELSE '{"tokens": 120, "provider": "openai", "model_version": "gpt-4o"}'::jsonb END,
            CASE WHEN n % 2 = 1 THEN $2::uuid END, ts::timestamptz
       FROM unnest($3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS u(i, c, ts, n)`,
    [conversationId, authorId, ids, contents, times],
  );
  await db.query('VACUUM ANALYZE chat_messages');
}

interface Answer {
  status: number;
  bytes: number;
  ms: number;
  etag: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/** One GET, timed from sending to the last byte; the body's bytes as they crossed the wire. */
function get(url: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(url, { agent, headers }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode!, bytes, ms: performance.now() - started, etag: String(res.headers.etag ?? '') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The server's process id, for its CPU time (bench/lib.ts cpuMs). */
let serverPid: number | undefined;

/** `runs` sequential requests: latency p50/p99, the last answer's bytes, and the server's CPU ms per request. */
async function sample(url: string, headers: Record<string, string>, runs: number, expected: number, before?: () => Promise<void>) {
  const times: number[] = [];
  let bytes = 0;
  let cpu = 0;
  for (let i = 0; i < runs; i++) {
    // Outside the timing and the server's CPU: a write straight in the database.
    if (before) await before();
    const cpuBefore = cpuMs(serverPid);
    const answer = await get(url, headers);
    cpu += cpuMs(serverPid) - cpuBefore;
    if (answer.status !== expected) throw new Error(`${url}: ${answer.status}, expected ${expected}`);
    times.push(answer.ms);
    bytes = answer.bytes;
  }
  cpu /= runs;
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99), bytes, cpu };
}

const mb = (bytes: number) => `${fmt(bytes / 1e6, 2)} MB`;
const ms = (n: number) => fmt(n, n < 10 ? 2 : 0);

/**
 * Full answers (gzip, brotli, plain) and the 304, with as many runs as the size allows. For a
 * list with `edit` (a write of one memory straight in the database): the gzip answer right
 * after such a write each time, and the very first gzip answer of an order never asked before
 * (`coldUrl`: nothing of it cached).
 */
async function measure(label: string, url: string, auth: Record<string, string>, fullRuns: number, list?: { edit: () => Promise<void>; coldUrl: string }) {
  const cold = list ? await sample(list.coldUrl, { ...auth, 'Accept-Encoding': 'gzip' }, 1, 200) : null;
  // The steady state of a poll: what the list's growth since the last size left uncached is compressed first.
  await get(url, { ...auth, 'Accept-Encoding': 'gzip' });
  const gzip = await sample(url, { ...auth, 'Accept-Encoding': 'gzip' }, fullRuns, 200);
  const afterWrite = list ? await sample(url, { ...auth, 'Accept-Encoding': 'gzip' }, Math.min(fullRuns, 15), 200, list.edit) : null;
  const br = await sample(url, { ...auth, 'Accept-Encoding': 'br' }, Math.max(3, Math.ceil(fullRuns / 2)), 200);
  const plain = await sample(url, { ...auth, 'Accept-Encoding': 'identity' }, Math.max(3, Math.ceil(fullRuns / 2)), 200);
  const { etag } = await get(url, { ...auth, 'Accept-Encoding': 'gzip' });
  const notModified = await sample(url, { ...auth, 'Accept-Encoding': 'gzip', 'If-None-Match': etag }, 300, 304);
  const row = {
    case: label,
    'gzip p50/p99 ms': `${ms(gzip.p50)} / ${ms(gzip.p99)}`,
    'gzip CPU ms': ms(gzip.cpu),
    'gzip bytes': mb(gzip.bytes),
    'gzip after a write p50/p99 ms (CPU)': afterWrite ? `${ms(afterWrite.p50)} / ${ms(afterWrite.p99)} (${ms(afterWrite.cpu)})` : '',
    'gzip first answer ms (CPU)': cold ? `${ms(cold.p50)} (${ms(cold.cpu)})` : '',
    'br p50 ms': ms(br.p50),
    'br bytes': mb(br.bytes),
    'plain p50/p99 ms': `${ms(plain.p50)} / ${ms(plain.p99)}`,
    'plain bytes': mb(plain.bytes),
    'plain CPU ms': ms(plain.cpu),
    '304 p50/p99 ms': `${ms(notModified.p50)} / ${ms(notModified.p99)}`,
    '304 CPU ms': fmt(notModified.cpu, 2),
  };
  console.log(Object.values(row).join(' | '));
  return { ...row, raw: { gzip, br, plain, notModified, afterWrite, cold } };
}

const load = () => loadavg().map((l) => fmt(l, 2)).join(' ');

export default async function run() {
  const database = await freshPostgresDatabase('polled');
  const server = await startServer({ ...SECRETS, DATABASE_URL: database.url, DATABASE_POOL_SIZE: '10' });
  serverPid = server.process.pid;
  const db = new pg.Client({ connectionString: database.url });
  await db.connect();
  try {
    console.log(`load average before: ${load()}`);
    const registered = await fetch(`${server.url}/api/auth/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Bench', email: `polled-${Date.now()}@bench.test`, password: 'bench-password' }),
    });
    const { token, user } = ((await registered.json()) as { data: { token: string; user: { id: string } } }).data;
    const auth = { Authorization: `Bearer ${token}` };
    const workspaceId = ((await db.query('SELECT id FROM workspaces WHERE owner_id = $1', [user.id])).rows[0] as { id: string }).id;
    const rand = prng(21);

    const rows: ReturnType<typeof measure> extends Promise<infer R> ? R[] : never = [];
    let seeded = 0;
    for (const size of SIZES) {
      await addMemories(db, workspaceId, user.id, seeded, size, rand);
      seeded = size;
      const url = `${server.url}/api/workspaces/${workspaceId}/memories`;
      const edit = async () => {
        const k = Math.floor(rand() * size);
        await db.query(`UPDATE memories SET content = content || ' edited', updated_at = now() WHERE id = $1`, [`memory-${k.toString(16).padStart(12, '0')}`]);
      };
      rows.push(await measure(`memory list, ${size.toLocaleString('en')} memories`, url, auth, size >= 50_000 ? 15 : size >= 10_000 ? 30 : 60, { edit, coldUrl: `${url}?sortBy=title` }));
      const rss = (await import('node:fs')).readFileSync(`/proc/${server.process.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+)/)?.[1];
      if (rss) console.log(`server peak RSS after the ${size.toLocaleString('en')}-memory list: ${fmt(Number(rss) / 1024, 0)} MB`);
    }

    const created = await fetch(`${server.url}/api/workspaces/${workspaceId}/conversations`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ modelId: 'model-gpt-4o', title: 'A long conversation' }),
    });
    const conversationId = ((await created.json()) as { data: { id: string } }).data.id;
    let messages = 0;
    for (const size of CONVERSATION_SIZES) {
      await addMessages(db, conversationId, user.id, messages, size, rand);
      messages = size;
      rows.push(await measure(`conversation, ${size.toLocaleString('en')} messages`, `${server.url}/api/conversations/${conversationId}`, auth, size >= 5000 ? 30 : 60));
    }
    rows.push(await measure('conversation list (1 conversation)', `${server.url}/api/workspaces/${workspaceId}/conversations`, auth, 20));
    rows.push(await measure('team (1 member)', `${server.url}/api/workspaces/${workspaceId}/team`, auth, 20));

    table(rows.map(({ raw: _raw, ...row }) => row));

    // Growth: per memory from 1k to 50k (full list), and how the 304 moves.
    const [small, , large] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0]];
    const perMemoryUs = ((large.raw.gzip.p50 - small.raw.gzip.p50) / (SIZES[2]! - SIZES[0]!)) * 1000;
    const perMemoryBytes = (large.raw.gzip.bytes - small.raw.gzip.bytes) / (SIZES[2]! - SIZES[0]!);
    const perMemoryCpuUs = ((large.raw.gzip.cpu - small.raw.gzip.cpu) / (SIZES[2]! - SIZES[0]!)) * 1000;
    console.log(`growth: the full list (gzip) grows by ${fmt(perMemoryUs, 1)} µs of latency, ${fmt(perMemoryCpuUs, 1)} µs of server CPU and ${fmt(perMemoryBytes, 0)} bytes per memory (1k → 50k); the 304 p50 is ${ms(small.raw.notModified.p50)} ms at 1k and ${ms(large.raw.notModified.p50)} ms at 50k (server CPU ${fmt(small.raw.notModified.cpu, 2)} and ${fmt(large.raw.notModified.cpu, 2)} ms)`);
    console.log(`after a write of one memory, the full list (gzip) at 50k: p50 ${ms(large.raw.afterWrite!.p50)} ms, server CPU ${ms(large.raw.afterWrite!.cpu)} ms; the first answer of an order nothing of which is cached: ${ms(large.raw.cold!.p50)} ms (CPU ${ms(large.raw.cold!.cpu)} ms)`);
    const worst304 = Math.max(...rows.map((r) => r.raw.notModified.p50));
    console.log(`targets: 304 p50 ≤ 3 ms at every size: ${fmt(worst304, 2)} ms ${worst304 <= 3 ? 'OK' : 'ABOVE TARGET'}; full list at 50k ≤ 300 ms: ${ms(large.raw.gzip.p50)} ms (gzip; server CPU ${ms(large.raw.gzip.cpu)} ms), ${ms(large.raw.br.p50)} ms (br) ${large.raw.gzip.p50 <= 300 ? 'OK' : 'ABOVE TARGET'}; ≤ 5 MB with gzip: ${mb(large.raw.gzip.bytes)} ${large.raw.gzip.bytes <= 5e6 ? 'OK' : 'ABOVE TARGET'}`);
    console.log(`load average after: ${load()}`);
  } finally {
    agent.destroy();
    await db.end();
    await server.stop();
    await database.drop();
  }
}
