/**
 * Hostile documents, sent to a real server process (`src/server.ts` as `npm start` runs it) on
 * each storage, as an ordinary workspace owner would: one case per document that stalled or
 * killed the server before its parsers ran off the request loop within limits (see
 * tests/support/hostile-documents.ts for how each is built):
 *
 *   DOCX whose word/document.xml is 47 MiB (and 20 MiB) of one-letter paragraphs
 *   HTML file of `<b>` nested 300,000 (and 1,000,000) deep
 *   URL import of a page of nested `<div>` stacks, 58 KiB (stacks 1,000 deep) and 440 KiB (2,000 deep)
 *   RTF of `{\rtf1 ` then `{\info ` ×100,000
 *   PDF with one FlateDecode stream inflating to 84 MiB, uploaded and through URL import
 *   and the same PDF stream behind ASCIIHexDecode, which no size check sees: the parse deadline
 *   and the parser's memory cap must stop it (uploaded, and through URL import, where the parse
 *   has what is left of URL_IMPORT_TIMEOUT)
 *
 * For each case, 4 attackers send the document at once (3 times each in the full run) while
 * `/api/health` is probed continuously and the server's resident memory (its process tree) is
 * sampled. Asserted:
 *   - every attack is answered within its deadline (the parse deadline, or URL_IMPORT_TIMEOUT
 *     for URL imports, plus slack for the upload) with a 4xx envelope, or a 503 with
 *     Retry-After while the parser pool is full; at least one of them is the 4xx;
 *   - the process never exits (same pid, no exit code);
 *   - `/api/health` answers 200 within 200 ms at p99 while the attack runs;
 *   - RSS comes back to within 100 MB of its level before the attack within a few seconds (a
 *     parser process a document left large is replaced once idle), and its peak stays within
 *     what two parser processes at their heap cap can hold;
 *   - the same kind of legitimate document still imports afterwards.
 * Then legitimate documents near the 10 MB upload cap (a 126-page illustrated PDF and the same
 * report as a DOCX) import with their text, health answering within the same bound on both
 * storages; and SIGTERM during a parse ends the process within SHUTDOWN_GRACE.
 *
 * The full run starts a fresh server for every case. RELIABILITY_SHORT=1 (CI) runs one case
 * per row of the table (the 47 MiB DOCX, 300,000 <b>, the 440 KiB page, the RTF, the uploaded
 * PDF), the ASCIIHex PDF (on PGlite only: it takes the whole parse deadline, which is the
 * parser's on either storage), the legitimate PDF and SIGTERM, sends each document once per
 * attacker, and keeps one server per storage unless a case leaves it dead or stuck.
 * HOSTILE_DOCS_CASES=docx-47,rtf,legit-pdf,sigterm runs only the named cases. A table of the
 * figures is printed at the end.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { percentile } from '../../bench/lib.js';
import { storages } from '../support/db.js';
import { buildDocx, buildPdf } from '../support/documents.js';
import {
  illustratedReportDocx, illustratedReportPdf, KiB, type LegitimateDocument, MiB, nestedStacksPage, nestedTagsHtml, pdfStreamBomb, rtfInfoBomb, wordBombDocx,
} from '../support/hostile-documents.js';
import { type LocalServer, startLocalServer } from '../support/local-server.js';
import {
  type HttpResult, type ProcessSession, registerOn, type ScratchDatabase, scratchDatabase, type ServerProcess, sleep, spawnServer,
} from '../support/processes.js';

const SHORT = process.env.RELIABILITY_SHORT === '1';
const ATTACKERS = 4;
const ROUNDS = SHORT ? 1 : 3;

/** The longest a parse may run by default (IMPORT_PARSE_TIMEOUT). */
const PARSE_DEADLINE_MS = 15_000;
/** URL_IMPORT_TIMEOUT as the server is started here: fetch, parse and summary together. */
const URL_DEADLINE_MS = 10_000;
/** Receiving the upload, a worker replaced after its deadline, a loaded 2-core machine. */
const ANSWER_SLACK_MS = 5_000;
/** The client gives up here: an answer later than the deadline is a failure, this tells "late" from "never". */
const CLIENT_TIMEOUT_MS = 2 * (PARSE_DEADLINE_MS + ANSWER_SLACK_MS);

const HEALTH_P99_MS = 200;
const RSS_RETURN_MB = 100;
/**
 * How long RSS may take to come back after the last answer: a parser process a document left
 * large is killed as soon as no document waits for it, and its memory goes with it.
 */
const SETTLE_MS = 5_000;
/** Two parser processes (IMPORT_WORKERS) at their heap cap (IMPORT_WORKER_MEMORY_MB, 512) with their buffers, and the server's own share of the work. */
const PEAK_GROWTH_MB = 2 * (512 + 128) + 256;

const SHUTDOWN_GRACE_MS = 3000;
/** Closing the pools and the embedder after the grace period (as in faults.test.ts). */
const SHUTDOWN_CLEANUP_MS = 2500;

const SERVER_ENV = { URL_IMPORT_ALLOW_HOSTS: '127.0.0.1', URL_IMPORT_TIMEOUT: `${URL_DEADLINE_MS}ms`, SHUTDOWN_GRACE: `${SHUTDOWN_GRACE_MS}ms` };

const PARAS = ['Tidal turbines sit on the sea bed of narrow estuaries, where the current runs fastest.', 'Their output is predictable years ahead, which makes them easy to plan around.'];
const smallHtml = Buffer.from(`<!doctype html><html><head><title>Tides</title></head><body><article><h1>Tides</h1>${PARAS.map((p) => `<p>${p} ${p}</p>`).join('')}</article></body></html>`);

interface Case {
  id: string;
  /** The row of the table it reproduces. */
  label: string;
  via: 'upload' | 'url';
  /** Upload filename, or the path the local page server answers on. */
  name: string;
  contentType: string;
  build: () => Buffer;
  /** A small legitimate document of the same kind: loads that parser before the baseline, and proves it still works after. */
  warmup: { name: string; contentType: string; bytes: Buffer };
  /** Part of the short run (one case per row of the table, and the deadline case). */
  short?: boolean;
  /** The short run sends it to this storage only: a case that takes the whole parse deadline, which is the parser's whatever the storage. */
  shortOn?: 'pglite' | 'postgres';
}

const docxWarmup = { name: 'plan.docx', contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', bytes: buildDocx(PARAS) };
const htmlWarmup = { name: 'page.html', contentType: 'text/html; charset=utf-8', bytes: smallHtml };
const pdfWarmup = { name: 'notes.pdf', contentType: 'application/pdf', bytes: buildPdf([PARAS]) };

/** Built once: the upload and the URL import send the same bytes. */
let pdfBomb: Buffer | undefined;
const streamBomb = () => (pdfBomb ??= pdfStreamBomb(84 * MiB));
let pdfHexBomb: Buffer | undefined;
const hexBomb = () => (pdfHexBomb ??= pdfStreamBomb(84 * MiB, { hexFirst: true }));

const ALL_CASES: Case[] = [
  { id: 'docx-47', short: true, label: 'DOCX, 47 MiB of paragraphs', via: 'upload', name: 'bomb.docx', contentType: docxWarmup.contentType, build: () => wordBombDocx(47 * MiB), warmup: docxWarmup },
  { id: 'docx-20', label: 'DOCX, 20 MiB of paragraphs', via: 'upload', name: 'bomb.docx', contentType: docxWarmup.contentType, build: () => wordBombDocx(20 * MiB), warmup: docxWarmup },
  { id: 'html-300k', short: true, label: 'HTML file, <b> ×300,000', via: 'upload', name: 'nested.html', contentType: 'text/html', build: () => nestedTagsHtml(300_000), warmup: htmlWarmup },
  { id: 'html-1m', label: 'HTML file, <b> ×1,000,000', via: 'upload', name: 'nested.html', contentType: 'text/html', build: () => nestedTagsHtml(1_000_000), warmup: htmlWarmup },
  { id: 'url-58k', label: 'URL import, nested page 58 KiB', via: 'url', name: '/nested-58k.html', contentType: 'text/html; charset=utf-8', build: () => nestedStacksPage(58 * KiB, 1000), warmup: { ...htmlWarmup, name: '/warmup.html' } },
  { id: 'url-440k', short: true, label: 'URL import, nested page 440 KiB', via: 'url', name: '/nested-440k.html', contentType: 'text/html; charset=utf-8', build: () => nestedStacksPage(440 * KiB, 2000), warmup: { ...htmlWarmup, name: '/warmup.html' } },
  { id: 'rtf', short: true, label: 'RTF, {\\info ×100,000', via: 'upload', name: 'info.rtf', contentType: 'application/rtf', build: () => rtfInfoBomb(100_000), warmup: { name: 'doc.rtf', contentType: 'application/rtf', bytes: Buffer.from(`{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}\\f0 ${PARAS[0]}\\par ${PARAS[1]}}`) } },
  { id: 'pdf', short: true, label: 'PDF, stream inflating to 84 MiB', via: 'upload', name: 'stream.pdf', contentType: 'application/pdf', build: streamBomb, warmup: pdfWarmup },
  { id: 'url-pdf', label: 'URL import, the same PDF', via: 'url', name: '/stream.pdf', contentType: 'application/pdf', build: streamBomb, warmup: { ...pdfWarmup, name: '/warmup.pdf' } },
  // Beyond the table: a bomb no size check sees (its first filter is not Flate), so only the parse deadline and memory cap stop it.
  { id: 'pdf-hex', short: true, shortOn: 'pglite', label: 'PDF, the same stream behind ASCIIHexDecode', via: 'upload', name: 'hex-stream.pdf', contentType: 'application/pdf', build: hexBomb, warmup: pdfWarmup },
  // Through URL import the parse has what URL_IMPORT_TIMEOUT left after the fetch: past it, the 422 of a parse deadline.
  { id: 'url-pdf-hex', label: 'URL import, the PDF behind ASCIIHexDecode', via: 'url', name: '/hex-stream.pdf', contentType: 'application/pdf', build: hexBomb, warmup: { ...pdfWarmup, name: '/warmup.pdf' } },
];

/** HOSTILE_DOCS_CASES=docx-47,rtf runs only those cases (and no legitimate or SIGTERM case unless named: legit-pdf, legit-docx, sigterm). */
const ONLY = process.env.HOSTILE_DOCS_CASES?.split(',');
const wanted = (id: string, short: boolean) => (ONLY ? ONLY.includes(id) : !SHORT || short);
const CASES = ALL_CASES.filter((c) => wanted(c.id, !!c.short));

// ---------------------------------------------------------------------------------------------
// Measuring

/** Resident memory of a process and all its descendants (worker threads count in their process; child processes are added), in MB. */
function treeRssMb(rootPid: number): number {
  return treeRss(rootPid).reduce((sum, p) => sum + p.mb, 0);
}

/** Each process of the tree and its RSS: the root first. */
function treeRss(rootPid: number): { pid: number; mb: number }[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      /* the process ended while listing */
    }
  }
  const found: { pid: number; mb: number }[] = [];
  const visit = (pid: number) => {
    try {
      found.push({ pid, mb: Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024) });
    } catch {
      return;
    }
    for (const child of children.get(pid) ?? []) visit(child);
  };
  visit(rootPid);
  return found;
}

const describeTree = (pid: number) => treeRss(pid).map((p, i) => `${i ? 'child' : 'server'} ${p.mb} MB`).join(', ');

/** Samples the tree's RSS every 100 ms until stopped; keeps the peak. */
function rssSampler(pid: number) {
  let peak = treeRssMb(pid);
  const timer = setInterval(() => (peak = Math.max(peak, treeRssMb(pid))), 100);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, treeRssMb(pid));
    },
  };
}

async function steadyRssMb(pid: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(treeRssMb(pid));
    await sleep(100);
  }
  return samples.sort((a, b) => a - b)[2]!;
}

interface HealthFigures {
  n: number;
  p50: number;
  p99: number;
  max: number;
  /** Probes that were not a 200 (status or network error). */
  failures: string[];
  /** The three slowest probes: latency and when they were sent, from the start of the attack. */
  slowest: string[];
}

/**
 * The prober's loop, run in a worker thread: the attackers' uploads are prepared and streamed on
 * the test's own event loop, and a probe waiting behind them there would blame the server for
 * the client's delay. GET /api/health one after another, 20 ms apart, until told to stop.
 */
const PROBE_LOOP = `
const { parentPort, workerData } = require('node:worker_threads');
let running = true;
parentPort.on('message', () => { running = false; });
(async () => {
  // A new thread's first fetch loads the HTTP client and connects: not part of any measurement.
  for (let i = 0; i < 3; i++) await fetch(workerData.url).then((res) => res.arrayBuffer()).catch(() => undefined);
  parentPort.postMessage('ready');
  const started = performance.now();
  const samples = [];
  while (running) {
    const sentAt = performance.now() - started;
    let status = 0, error = null;
    try {
      const res = await fetch(workerData.url, { signal: AbortSignal.timeout(10000) });
      await res.arrayBuffer();
      status = res.status;
    } catch (e) {
      error = e.name === 'TimeoutError' ? 'timeout' : String(e.cause?.code ?? e.message);
    }
    samples.push({ sentAt, ms: Math.round((performance.now() - started - sentAt) * 10) / 10, status, error });
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  parentPort.postMessage(samples);
})();
`;

interface ProbeSample {
  sentAt: number;
  ms: number;
  status: number;
  error: string | null;
}

/** Probes /api/health from a worker thread until stopped; resolves once the prober is warm. */
async function healthProbe(server: ServerProcess) {
  const worker = new Worker(PROBE_LOOP, { eval: true, workerData: { url: `${server.origin}/api/health` } });
  const messages: unknown[] = [];
  let notify = () => {};
  worker.on('message', (m) => {
    messages.push(m);
    notify();
  });
  const next = (i: number) => new Promise<unknown>((resolve, reject) => {
    if (messages.length > i) return resolve(messages[i]);
    notify = () => messages.length > i && resolve(messages[i]);
    worker.once('error', reject);
  });
  await next(0); // 'ready'
  const done = next(1) as Promise<ProbeSample[]>;
  return {
    stop: async (): Promise<HealthFigures> => {
      worker.postMessage('stop');
      const samples = await done;
      await worker.terminate();
      const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
      const failures = samples.filter((s) => s.status !== 200).map((s) => `${s.status || s.error} after ${s.ms} ms`);
      const slowest = [...samples].sort((a, b) => b.ms - a.ms).slice(0, 3).map((s) => `${Math.round(s.ms)} ms at +${(s.sentAt / 1000).toFixed(2)} s`);
      return { n: ms.length, p50: ms.length ? percentile(ms, 50) : 0, p99: ms.length ? percentile(ms, 99) : 0, max: ms.at(-1) ?? 0, failures, slowest };
    },
  };
}

interface Answer {
  status: number;
  ms: number;
  error: string;
  retryAfter: string | null;
  /** The answer is the `{ok:false, data, error: string}` envelope. */
  envelope: boolean;
}

function toAnswer(res: HttpResult): Answer {
  const b = res.body;
  const envelope = !!b && typeof b === 'object' && b.ok === false && typeof b.error === 'string' && 'data' in b;
  return { status: res.status, ms: res.ms, error: envelope ? b.error : String(res.error ?? (typeof b === 'string' ? b : JSON.stringify(b))).slice(0, 160), retryAfter: res.headers?.get('retry-after') ?? null, envelope };
}

/** POST import-file with one file, as a browser's FormData does; never throws for HTTP statuses. */
async function uploadFile(server: ServerProcess, session: ProcessSession, name: string, bytes: Buffer, contentType: string, timeoutMs = CLIENT_TIMEOUT_MS): Promise<HttpResult> {
  const form = new FormData();
  form.append('summarize', 'false');
  form.append('file', new Blob([new Uint8Array(bytes)], { type: contentType }), name);
  return server.request('POST', `/api/workspaces/${session.workspaceId}/memories/import-file`, { body: form, token: session.token, timeoutMs });
}

function importUrl(server: ServerProcess, session: ProcessSession, url: string, timeoutMs = CLIENT_TIMEOUT_MS): Promise<HttpResult> {
  return server.request('POST', `/api/workspaces/${session.workspaceId}/memories/import-url`, { token: session.token, body: { url, summarize: false }, timeoutMs });
}

// ---------------------------------------------------------------------------------------------
// Figures

interface Figures {
  storage: string;
  label: string;
  sentKiB: number;
  answers: Answer[];
  health: HealthFigures;
  rss: { before: number; peak: number; after: number; settledMs: number };
  alive: boolean;
  /** Legitimate documents: the import's status and time. */
  note?: string;
}

const table: Figures[] = [];

function statusCounts(answers: Answer[]): string {
  const counts = new Map<string, number>();
  for (const a of answers) counts.set(String(a.status || a.error), (counts.get(String(a.status || a.error)) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${s}×${n}`).join(' ');
}

function printTable() {
  const lines = [
    '| Storage | Input | Sent | Answers | Answer time ms (min–max) | Health n | p50 / p99 / max ms | RSS before / peak / after MB | Alive |',
    '|---|---|---|---|---|---|---|---|---|',
    ...table.map((f) => {
      const ms = f.answers.map((a) => a.ms);
      const sent = f.sentKiB >= 1024 ? `${(f.sentKiB / 1024).toFixed(1)} MiB` : `${Math.round(f.sentKiB)} KiB`;
      return `| ${f.storage} | ${f.label} | ${sent} | ${statusCounts(f.answers)} | ${ms.length ? `${Math.round(Math.min(...ms))}–${Math.round(Math.max(...ms))}` : '-'} | ${f.health.n} | ${f.health.p50.toFixed(1)} / ${f.health.p99.toFixed(1)} / ${f.health.max.toFixed(1)} | ${f.rss.before} / ${f.rss.peak} / ${f.rss.after} (${f.rss.settledMs} ms) | ${f.alive ? 'yes' : '**no**'} |`;
    }),
  ];
  const texts = new Map<string, string>();
  for (const f of table) for (const a of f.answers) if (a.status >= 400) texts.set(`${a.status} ${a.error}`, f.label);
  const slowest = table.map((f) => `  ${f.storage} ${f.label}: ${f.health.slowest.join(', ')}`);
  console.log(
    `[hostile-documents] ${SHORT ? 'short' : 'full'} run, ${ATTACKERS} attackers × ${ROUNDS} round(s)\n${lines.join('\n')}\n` +
      `Answer texts:\n${[...texts].map(([t, l]) => `  ${t}   (e.g. ${l})`).join('\n')}\n${table.filter((f) => f.note).map((f) => `  ${f.storage} ${f.label}: ${f.note}`).join('\n')}\n` +
      `Slowest health probes (sent at, from the first attack):\n${slowest.join('\n')}`,
  );
}

afterAll(() => {
  if (table.length) printTable();
});

// ---------------------------------------------------------------------------------------------

/** The local web server URL imports fetch from (127.0.0.1 only). */
let pages: LocalServer;
const served = new Map<string, { contentType: string; bytes: Buffer }>();
const documents = new Map<string, Buffer>();
const docOf = (c: Case) => documents.get(c.id) ?? documents.set(c.id, c.build()).get(c.id)!;

beforeAll(async () => {
  pages = await startLocalServer((req, res) => {
    const doc = served.get(req.url ?? '');
    if (!doc) return res.writeHead(404, { 'content-type': 'text/plain' }).end('missing');
    res.writeHead(200, { 'content-type': doc.contentType, 'content-length': doc.bytes.length }).end(doc.bytes);
  });
  for (const c of CASES) {
    if (c.via !== 'url') continue;
    served.set(c.name, { contentType: c.contentType, bytes: docOf(c) });
    served.set(c.warmup.name, c.warmup);
  }
});

afterAll(async () => {
  await pages?.close();
});

/** Sends the case's document (or its URL) once. */
function send(server: ServerProcess, session: ProcessSession, c: Case, doc: { name: string; contentType: string; bytes: Buffer }, timeoutMs?: number) {
  return c.via === 'url' ? importUrl(server, session, pages.url(doc.name), timeoutMs) : uploadFile(server, session, doc.name, doc.bytes, doc.contentType, timeoutMs);
}

/** A legitimate import, retried after Retry-After while the pool is full (as a well-behaved client does). */
async function importLegitimately(server: ServerProcess, session: ProcessSession, c: Case, budgetMs = PARSE_DEADLINE_MS + ANSWER_SLACK_MS): Promise<HttpResult> {
  const until = Date.now() + budgetMs;
  for (;;) {
    const res = await send(server, session, c, c.warmup, budgetMs);
    const retry = Number(res.headers?.get('retry-after') ?? 1);
    if (res.status !== 503 || Date.now() + retry * 1000 > until) return res;
    await sleep(retry * 1000);
  }
}

for (const storage of storages()) {
  describe(`hostile documents [${storage}]`, () => {
    let server: ServerProcess | undefined;
    let session: ProcessSession;
    const databases: ScratchDatabase[] = [];

    async function start(extraEnv: Record<string, string> = {}): Promise<ServerProcess> {
      const env: Record<string, string> = { ...SERVER_ENV, ...extraEnv };
      if (storage === 'postgres') {
        const db = await scratchDatabase();
        databases.push(db);
        env.DATABASE_URL = db.url;
      }
      const started = Date.now();
      const s = await spawnServer(env);
      console.log(`[hostile-documents ${storage}] server ready in ${Date.now() - started} ms`);
      return s;
    }

    /** SIGKILL: a server stuck in a parse may ignore SIGTERM for minutes. */
    async function kill(s: ServerProcess | undefined) {
      if (!s) return;
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
      await s.exited;
    }

    /** A fresh server per case in the full run; in the short run the previous one, unless it died or was left stuck. */
    async function serverForCase(): Promise<ServerProcess> {
      if (server && (!SHORT || server.child.exitCode !== null || server.child.signalCode !== null)) {
        await kill(server);
        server = undefined;
      }
      if (!server) {
        server = await start();
        session = await registerOn(server, 'attacker');
      }
      return server;
    }

    afterAll(async () => {
      await kill(server);
      for (const db of databases) await db.drop().catch(() => undefined);
    });

    for (const c of CASES.filter((x) => !SHORT || ONLY || !x.shortOn || x.shortOn === storage)) {
      it(`${c.label}: 4xx within the deadline, health within ${HEALTH_P99_MS} ms at p99, RSS back within ${RSS_RETURN_MB} MB, the process alive`, async () => {
        const s = await serverForCase();
        const pid = s.child.pid!;
        const doc = { name: c.name, contentType: c.contentType, bytes: docOf(c) };
        const deadline = (c.via === 'url' ? URL_DEADLINE_MS : PARSE_DEADLINE_MS) + ANSWER_SLACK_MS;

        const warm = await importLegitimately(s, session, c);
        expect.soft(warm.status, `warm-up import: ${JSON.stringify(warm.body).slice(0, 200)}`).toBe(201);
        await sleep(300);
        const before = await steadyRssMb(pid);
        const beforeTree = describeTree(pid);

        const rss = rssSampler(pid);
        const health = await healthProbe(s);
        const answers: Answer[] = [];
        await Promise.all(
          Array.from({ length: ATTACKERS }, async () => {
            for (let round = 0; round < ROUNDS; round++) answers.push(toAnswer(await send(s, session, c, doc)));
          }),
        );
        const healthFigures = await health.stop();

        // RSS back to its level before the attack (a parse that was stopped may take a moment to release its memory).
        const settleStarted = Date.now();
        let after = treeRssMb(pid);
        while (after > before + RSS_RETURN_MB && Date.now() - settleStarted < SETTLE_MS && s.child.exitCode === null) {
          await sleep(250);
          after = treeRssMb(pid);
        }
        const peak = rss.stop();
        const afterTree = describeTree(pid);
        const stuck = answers.some((a) => a.status === 0);
        // The same parser still serves a legitimate document (a stuck server is not asked: it is replaced).
        const followUp = stuck || s.child.exitCode !== null ? null : await importLegitimately(s, session, c);
        const alive = s.child.exitCode === null && s.child.signalCode === null;
        table.push({ storage, label: c.label, sentKiB: doc.bytes.length / KiB, answers, health: healthFigures, rss: { before, peak, after, settledMs: Date.now() - settleStarted }, alive });
        if (stuck && SHORT) await kill(s); // the next case gets a fresh server

        const refusals = answers.filter((a) => a.status >= 400 && a.status < 500);
        const unexpected = answers.filter((a) => !((a.status >= 400 && a.status < 500 && a.envelope) || (a.status === 503 && a.envelope && a.retryAfter)));
        expect.soft(alive, `the server process survived:\n${s.output().slice(-1500)}`).toBe(true);
        expect.soft(unexpected.map((a) => `${a.status || a.error} after ${a.ms} ms: ${a.error}`), 'every attack answered with a 4xx envelope (or 503 + Retry-After while the pool is full)').toEqual([]);
        expect.soft(refusals.length, 'at least one attack refused with a 4xx naming the limit').toBeGreaterThan(0);
        expect.soft(answers.filter((a) => a.ms > deadline).map((a) => `${a.status || a.error} after ${a.ms} ms`), `every answer within ${deadline} ms`).toEqual([]);
        expect.soft(healthFigures.failures, 'health answered 200 throughout').toEqual([]);
        expect.soft(healthFigures.p99, `health p99 (n = ${healthFigures.n})`).toBeLessThanOrEqual(HEALTH_P99_MS);
        expect.soft(peak - before, `RSS peak during the attack (${peak} MB) against before (${before} MB)`).toBeLessThanOrEqual(PEAK_GROWTH_MB);
        expect.soft(after - before, `RSS ${SETTLE_MS} ms after the attack (${after} MB) against before (${before} MB)`).toBeLessThanOrEqual(RSS_RETURN_MB);
        if (after - before > RSS_RETURN_MB) console.log(`[hostile-documents ${storage}] ${c.label}: RSS ${before} MB before (${beforeTree}), ${after} MB after (${afterTree})`);
        expect.soft(followUp?.status, `a legitimate ${c.warmup.name} after the attack: ${JSON.stringify(followUp?.body)?.slice(0, 200)}`).toBe(201);
      });
    }

    const legitimate: [string, string, string, () => LegitimateDocument, string, Case, boolean][] = [
      ['legit-pdf', 'PDF report, 126 pages with pictures', 'report.pdf', illustratedReportPdf, 'application/pdf', ALL_CASES.find((c) => c.id === 'pdf')!, true],
      ['legit-docx', 'DOCX report, 120 pages with pictures', 'report.docx', illustratedReportDocx, docxWarmup.contentType, ALL_CASES.find((c) => c.id === 'docx-47')!, false],
    ];
    for (const [id, label, name, build, contentType, sameKind, short] of legitimate) {
      it.runIf(wanted(id, short))(`a legitimate ${label} near the 10 MB cap imports with its text, health answering meanwhile`, async () => {
        const s = await serverForCase();
        const pid = s.child.pid!;
        const doc = build();
        // The parser loaded first, as for the attacks: the figures are those of the import, not of loading a library.
        const warm = await importLegitimately(s, session, sameKind);
        expect.soft(warm.status, `warm-up import: ${JSON.stringify(warm.body).slice(0, 200)}`).toBe(201);
        const before = await steadyRssMb(pid);
        const rss = rssSampler(pid);
        const health = await healthProbe(s);
        const res = await uploadFile(s, session, name, doc.bytes, contentType);
        const healthFigures = await health.stop();
        await sleep(1000);
        const after = treeRssMb(pid);
        const peak = rss.stop();
        const content: string = res.body?.data?.memory?.content ?? '';
        table.push({
          storage, label: `legitimate ${label}`, sentKiB: doc.bytes.length / KiB, answers: [toAnswer(res)], health: healthFigures,
          rss: { before, peak, after, settledMs: 1000 }, alive: s.child.exitCode === null, note: `${res.status} in ${res.ms} ms, ${content.length} characters of text`,
        });

        expect.soft(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(201);
        expect.soft(res.ms, 'imported within the parse deadline').toBeLessThanOrEqual(PARSE_DEADLINE_MS);
        for (const sample of doc.samples) expect.soft(content.includes(sample), `the text holds "${sample}"`).toBe(true);
        expect.soft(healthFigures.failures).toEqual([]);
        expect.soft(healthFigures.p99, `health p99 (n = ${healthFigures.n})`).toBeLessThanOrEqual(HEALTH_P99_MS);
      });
    }

    it.runIf(wanted('sigterm', true))(`SIGTERM while attackers keep a parse running ends the process within SHUTDOWN_GRACE (${SHUTDOWN_GRACE_MS} ms)`, async () => {
      // The last test: it ends the server (the short run's shared one, a fresh one in the full run).
      const s = await serverForCase();
      const owner = session;
      server = undefined;
      // A document only the parse deadline stops: the parsers are busy when the signal comes.
      const c = ALL_CASES.find((x) => x.id === 'pdf-hex')!;
      const bytes = docOf(c);
      let running = true;
      const attackers = Promise.all(
        Array.from({ length: ATTACKERS }, async () => {
          while (running && s.child.exitCode === null) {
            const res = await uploadFile(s, owner, c.name, bytes, c.contentType, 30_000);
            if (res.status === 0 || res.status === 503) await sleep(100);
          }
        }),
      );
      await sleep(1500);
      const signalled = Date.now();
      s.child.kill('SIGTERM');
      const code = await Promise.race([s.exited, sleep(60_000).then(() => 'still running' as const)]);
      const tookMs = Date.now() - signalled;
      running = false;
      await kill(s);
      await attackers;
      console.log(`[hostile-documents ${storage}] SIGTERM during parses: exit ${code} after ${tookMs} ms (grace ${SHUTDOWN_GRACE_MS} ms)`);
      expect.soft(code).toBe(0);
      expect.soft(tookMs).toBeLessThanOrEqual(SHUTDOWN_GRACE_MS + SHUTDOWN_CLEANUP_MS);
    });
  });
}
