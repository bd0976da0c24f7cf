/**
 * The load of N simulated frontend users: the React app's polling timers (contract Part B
 * §1.13), chat sends (JSON and streamed) and memory search, played with autocannon against a
 * running server. `runSoak` (bench/soak-run.ts) wraps it with a server, a database and the
 * samples; the soak test asserts on it and `npm run soak` prints it.
 *
 * How the load is shaped:
 *   - every user sits on one page (PAGE_SHARES) and runs that page's timers, each with its own
 *     random phase, for a whole cycle; the timers of all users, sorted by time, are one request
 *     sequence that the connections consume in order, so every class gets exactly its share;
 *   - connections send one request per second each (autocannon `connectionRate: 1`) and there
 *     are as many as the target rate needs; they are spread over SLOTS autocannon instances
 *     started 1000/SLOTS ms apart, so arrivals are spread over the second as the browsers'
 *     unsynchronised timers are, not one burst per second;
 *   - polls revalidate with If-None-Match, as the browser's HTTP cache does (the API sends weak
 *     ETags and no Cache-Control), so an unchanged list costs a 304: the one intended non-2xx.
 * A slow server cannot hide: a connection waits for its answer before its next request, so the
 * achieved rate falls below the target, and the report shows both.
 */
import autocannon from 'autocannon';

export type Page = 'chat' | 'dashboard' | 'memories' | 'team';
export const PAGES: Page[] = ['chat', 'dashboard', 'memories', 'team'];

/**
 * Where the users are. An assumption (the contract gives timers, not traffic): most of the
 * time goes to chatting and the dashboard, less to the memory bank and the team page.
 */
export const PAGE_SHARES: Record<Page, number> = { chat: 0.4, dashboard: 0.3, memories: 0.15, team: 0.15 };

export interface SimUser {
  index: number;
  token: string;
  workspaceId: string;
  /** The conversation open on the chat page (and the one chat traffic goes to). */
  conversationId: string;
  page: Page;
}

export interface MixRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
}

export interface RequestClass {
  name: string;
  /** What it stands for, and where its timers come from. */
  source: string;
  /** Per page: the seconds between two requests of one user, one entry per timer running there. */
  timers: Partial<Record<Page, number[]>>;
  /** Revalidated with If-None-Match (a 304 is then a success). */
  conditional?: boolean;
  /** The 2xx status a success answers with. */
  status: number;
  request(user: SimUser, n: number): MixRequest;
  /** Checks a successful body (streams answer 200 and report failures inside). */
  verify?(body: string): boolean;
}

const SHELL: Page[] = ['chat', 'memories', 'team'];
const every = (pages: Page[], seconds: number[]) => Object.fromEntries(pages.map((p) => [p, seconds]));

const MESSAGES = ['what did we decide about the database index', 'notes on the rocket launch', 'a pizza recipe with cheese and tomato', 'why does my python code have a bug'];
const QUERIES = ['database index query', 'rocket launch to mars', 'cheese pizza recipe', 'cats and kittens', 'guitar song melody', 'python function bug'];
const CONTENT = [
  'The postgres database needs an index on the memories table for vector search queries.',
  'The rocket launch to orbit is planned; the astronaut crew trains for the moon and mars.',
  'Bake the pizza in a hot oven with tomato and cheese; the bread recipe needs time.',
  'My cat sleeps on the mat and purrs; the kitten plays with the dog.',
  'The meeting notes of project alpha: fix the javascript bug in the search function.',
];
export const seedContent = (i: number) => CONTENT[i % CONTENT.length]!;

/** The mix. Intervals of the polls are §1.13's; chat, search and writes are assumptions, said so. */
export const MIX: RequestClass[] = [
  {
    name: 'workspaces',
    source: 'GET /workspaces — app shell every 10 s; the Dashboard polls it again on its own 10 s timer',
    timers: { ...every(SHELL, [10]), dashboard: [10, 10] },
    conditional: true,
    status: 200,
    request: () => ({ method: 'GET', path: '/api/workspaces' }),
  },
  {
    name: 'conversation-list',
    source: 'GET /workspaces/{id}/conversations — 5 s; 10 s on the Dashboard',
    timers: { ...every(SHELL, [5]), dashboard: [10] },
    conditional: true,
    status: 200,
    request: (u) => ({ method: 'GET', path: `/api/workspaces/${u.workspaceId}/conversations` }),
  },
  {
    name: 'conversation',
    source: 'GET /conversations/{id} — 5 s while the chat page is open',
    timers: { chat: [5] },
    conditional: true,
    status: 200,
    request: (u) => ({ method: 'GET', path: `/api/conversations/${u.conversationId}` }),
  },
  {
    name: 'memory-list',
    source: 'GET /workspaces/{id}/memories?sortBy=recent — 10 s',
    timers: every(PAGES, [10]),
    conditional: true,
    status: 200,
    request: (u) => ({ method: 'GET', path: `/api/workspaces/${u.workspaceId}/memories?sortBy=recent` }),
  },
  {
    name: 'invitations',
    source: 'GET /invitations — 15 s (invitation inbox)',
    timers: every(PAGES, [15]),
    conditional: true,
    status: 200,
    request: () => ({ method: 'GET', path: '/api/invitations' }),
  },
  {
    name: 'team',
    source: 'GET /workspaces/{id}/team — 8 s on the Team page',
    timers: { team: [8] },
    conditional: true,
    status: 200,
    request: (u) => ({ method: 'GET', path: `/api/workspaces/${u.workspaceId}/team` }),
  },
  {
    name: 'dashboard',
    source: 'GET /workspaces/{id}/dashboard — 10 s, and once more after each record-load (5 min)',
    timers: { dashboard: [10, 300] },
    conditional: true,
    status: 200,
    request: (u) => ({ method: 'GET', path: `/api/workspaces/${u.workspaceId}/dashboard` }),
  },
  {
    name: 'record-load',
    source: 'POST /workspaces/{id}/record-load — every 5 min on the Dashboard',
    timers: { dashboard: [300] },
    status: 200,
    request: (u) => ({ method: 'POST', path: `/api/workspaces/${u.workspaceId}/record-load` }),
  },
  {
    name: 'chat',
    source: 'POST /conversations/{id}/messages, JSON reply — assumed: a chat-page user sends every 60 s, half of them streamed',
    timers: { chat: [120] },
    status: 201,
    request: (u, n) => ({ method: 'POST', path: `/api/conversations/${u.conversationId}/messages`, body: { content: `${MESSAGES[n % MESSAGES.length]} (${n})` } }),
    verify: (body) => body.includes('"assistantMessage"'),
  },
  {
    name: 'chat-stream',
    source: 'POST /conversations/{id}/messages with "stream": true — the other half of the sends (SSE)',
    timers: { chat: [120] },
    status: 200,
    request: (u, n) => ({ method: 'POST', path: `/api/conversations/${u.conversationId}/messages`, body: { content: `${MESSAGES[n % MESSAGES.length]} (${n})`, stream: true } }),
    verify: (body) => body.includes('event: done') && !body.includes('event: error'),
  },
  {
    name: 'search',
    source: 'POST /memories/search (semantic + full text) — assumed: a memory-bank user searches every 30 s',
    timers: { memories: [30] },
    status: 200,
    request: (u, n) => ({ method: 'POST', path: '/api/memories/search', body: { query: QUERIES[n % QUERIES.length], workspaceId: u.workspaceId, top_k: 5 } }),
    verify: (body) => body.includes('"mode":"hybrid"'),
  },
  {
    name: 'memory-search-list',
    source: 'GET /workspaces/{id}/memories?search=… — the memory bank\'s search box, assumed every 30 s',
    timers: { memories: [30] },
    status: 200,
    request: (u, n) => ({ method: 'GET', path: `/api/workspaces/${u.workspaceId}/memories?search=${encodeURIComponent(QUERIES[n % QUERIES.length]!.split(' ')[0]!)}&sortBy=relevance` }),
  },
  {
    name: 'memory-write',
    source: 'POST /workspaces/{id}/memories — assumed: a memory-bank user adds one every 5 min (keeps the embedder busy)',
    timers: { memories: [300] },
    status: 201,
    request: (u, n) => ({ method: 'POST', path: `/api/workspaces/${u.workspaceId}/memories`, body: { title: `Soak note ${n}`, content: seedContent(n), tags: ['soak'] } }),
  },
];

/** Users per page for `users` simulated users (largest remainders, so they add up). */
export function pageCounts(users: number): Record<Page, number> {
  const exact = PAGES.map((p) => users * PAGE_SHARES[p]);
  const counts = exact.map(Math.floor);
  const order = PAGES.map((_, i) => i).sort((a, b) => exact[b]! - counts[b]! - (exact[a]! - counts[a]!));
  for (let k = 0; counts.reduce((a, b) => a + b, 0) < users; k++) counts[order[k]!]!++;
  return Object.fromEntries(PAGES.map((p, i) => [p, counts[i]!])) as Record<Page, number>;
}

export const pageOf = (index: number, counts: Record<Page, number>): Page => {
  let left = index;
  for (const p of PAGES) {
    if (left < counts[p]) return p;
    left -= counts[p];
  }
  return 'chat';
};

export interface ClassRate {
  name: string;
  source: string;
  /** Requests per second the users produce. */
  rate: number;
}

/** The request rate `users` frontend users produce, per class: Σ over pages of users × Σ 1/interval. */
export function targetRates(users: number): ClassRate[] {
  const counts = pageCounts(users);
  return MIX.map((c) => ({
    name: c.name,
    source: c.source,
    rate: PAGES.reduce((sum, p) => sum + counts[p] * (c.timers[p] ?? []).reduce((s, interval) => s + 1 / interval, 0), 0),
  }));
}

/** Deterministic PRNG (mulberry32) so runs are comparable. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One cycle (the timers' least common multiple, 600 s) of every user's timers, in time order. */
export function requestSequence(users: SimUser[], seed = 1): { classIndex: Uint8Array; userIndex: Uint32Array } {
  const CYCLE = 600;
  const rand = prng(seed);
  const events: { t: number; c: number; u: number }[] = [];
  users.forEach((user, u) => {
    MIX.forEach((cls, c) => {
      for (const interval of cls.timers[user.page] ?? []) {
        for (let t = rand() * interval; t < CYCLE; t += interval) events.push({ t, c, u });
      }
    });
  });
  events.sort((a, b) => a.t - b.t);
  return { classIndex: Uint8Array.from(events, (e) => e.c), userIndex: Uint32Array.from(events, (e) => e.u) };
}

export interface ClassResult {
  name: string;
  target: number;
  achieved: number;
  count: number;
  /** Successful answers by status (the class's 2xx, and 304 for revalidated polls). */
  ok: Record<number, number>;
  /** Anything else: unexpected statuses, bodies that failed verification, timeouts. */
  failures: Record<string, number>;
  p50: number;
  p99: number;
  max: number;
}

export interface MixResult {
  durationSeconds: number;
  target: number;
  achieved: number;
  connections: number;
  classes: ClassResult[];
  /** Connection errors and timeouts over the whole run (autocannon's own counts). */
  errors: number;
  timeouts: number;
  /** The first failing answers of each kind and class, for the report. */
  failureSamples: string[];
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

class Latencies {
  private values = new Float64Array(1024);
  length = 0;
  push(v: number) {
    if (this.length === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.length++] = v;
  }
  sorted(): Float64Array {
    return this.values.slice(0, this.length).sort();
  }
}

const SLOTS = 50;

/**
 * Plays the mix for `durationSeconds` against `baseUrl` (http://127.0.0.1:port) and returns
 * per-class figures. `users` need tokens and ids from the server (see seedUsers in soak-run.ts).
 */
export async function runMix(baseUrl: string, users: SimUser[], durationSeconds: number): Promise<MixResult> {
  const rates = targetRates(users.length);
  const target = rates.reduce((s, r) => s + r.rate, 0);
  const { classIndex, userIndex } = requestSequence(users);
  const connections = Math.ceil(target);
  const slots = Math.min(SLOTS, connections);

  const latencies = MIX.map(() => new Latencies());
  const ok = MIX.map(() => ({}) as Record<number, number>);
  const failures = MIX.map(() => ({}) as Record<string, number>);
  const failureSamples: string[] = [];
  const etags = new Map<string, string>();
  const bump = (counts: Record<string | number, number>, key: string | number) => (counts[key] = (counts[key] ?? 0) + 1);
  const fail = (c: number, key: string, detail: string) => {
    // the first two of each kind per class, so a rare failure is not hidden behind a common one
    if (bump(failures[c]!, key) <= 2 && failureSamples.length < 40) failureSamples.push(`${MIX[c]!.name}: ${key} ${detail.slice(0, 300)}`);
  };

  let cursor = 0;
  let clientIds = 0;
  // Per client: the request in flight, and the one whose connection was torn down last
  // (autocannon reconnects and builds the next request before it reports a timeout).
  const inflight: { c: number; key: string }[] = [];
  const torn: ({ c: number; key: string } | undefined)[] = [];

  const setupRequest = (req: autocannon.Request, context: Record<string, any>) => {
    const i = cursor++ % classIndex.length;
    const c = classIndex[i]!;
    const user = users[userIndex[i]!]!;
    const cls = MIX[c]!;
    const r = cls.request(user, cursor);
    const key = `${user.index} ${r.path}`;
    const headers: Record<string, string> = { authorization: `Bearer ${user.token}` };
    if (r.body !== undefined) headers['content-type'] = 'application/json';
    const etag = cls.conditional ? etags.get(key) : undefined;
    if (etag) headers['if-none-match'] = etag;
    context.c = c;
    context.key = key;
    if (context.id !== undefined) inflight[context.id] = { c, key };
    return { ...req, method: r.method, path: r.path, headers, body: r.body === undefined ? undefined : JSON.stringify(r.body) } as autocannon.Request;
  };

  const onResponse = (status: number, body: string, context: Record<string, any>, headers: Record<string, string | string[]>) => {
    const c = context.c as number;
    const cls = MIX[c]!;
    if (status === cls.status) {
      if (cls.verify && !cls.verify(body)) return fail(c, 'bad body', body);
      if (cls.conditional) {
        const etag = headers.etag ?? headers.ETag ?? headers.Etag;
        if (typeof etag === 'string') etags.set(context.key, etag);
      }
      bump(ok[c]!, status);
    } else if (status === 304 && cls.conditional) {
      bump(ok[c]!, 304);
    } else {
      // autocannon reuses its parser when it reconnects after a timeout: a reply cut there has no status
      fail(c, status === undefined ? 'cut reply' : String(status), body);
    }
  };

  const instances: Promise<autocannon.Result>[] = [];
  let errors = 0;
  let timeouts = 0;
  const started = performance.now();
  for (let s = 0; s < slots; s++) {
    const size = Math.floor(connections / slots) + (s < connections % slots ? 1 : 0);
    const instance = autocannon({
      url: baseUrl,
      connections: size,
      connectionRate: 1,
      duration: durationSeconds,
      timeout: 10,
      ignoreCoordinatedOmission: true,
      setupClient: (client: any) => {
        const id = clientIds++;
        // The context is deep-cloned from initialContext for every request: a number survives.
        // The first request was built before this hook ran; rebuild it with the id.
        const iterator = client.requestIterator;
        iterator.initialContext = { id };
        iterator.resetContext();
        iterator.setRequests(iterator.requests);
        const destroy = client._destroyConnection;
        client._destroyConnection = function (this: unknown) {
          torn[id] = inflight[id];
          return destroy.call(this);
        };
        client.on('timeout', () => {
          const lost = torn[id];
          if (lost) fail(lost.c, 'timeout', lost.key);
        });
      },
      requests: [{ setupRequest, onResponse } as unknown as autocannon.Request],
    } as autocannon.Options);
    (instance as unknown as autocannon.Instance).on('response', (client: any, _status: number, _bytes: number, ms: number) => {
      latencies[client.requestIterator.context.c as number]!.push(ms);
    });
    instances.push(instance as unknown as Promise<autocannon.Result>);
    await new Promise((r) => setTimeout(r, 1000 / slots));
  }
  const results = await Promise.all(instances);
  const elapsed = (performance.now() - started) / 1000;
  for (const r of results) {
    errors += r.errors - r.timeouts;
    timeouts += r.timeouts;
  }
  const classes = MIX.map((cls, c): ClassResult => {
    const sorted = latencies[c]!.sorted();
    return {
      name: cls.name,
      target: rates[c]!.rate,
      achieved: sorted.length / durationSeconds,
      count: sorted.length,
      ok: ok[c]!,
      failures: failures[c]!,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      max: sorted.length ? sorted[sorted.length - 1]! : 0,
    };
  });
  return {
    durationSeconds: elapsed,
    target,
    achieved: classes.reduce((s, c) => s + c.count, 0) / durationSeconds,
    connections,
    classes,
    errors,
    timeouts,
    failureSamples,
  };
}
