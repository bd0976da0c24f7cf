/**
 * Fact extraction (issue 19):
 *  1. on a real server (PostgreSQL, the fake OpenAI on 127.0.0.1 answering the extraction's
 *     questions from the fixture): what a workspace's autoExtract adds to closing a
 *     conversation (the close must still answer at once: the job runs after it), the job's
 *     time end to end (close sent → extraction done, the server's queue running it), and the
 *     tokens per extraction as the fake provider counts them (four characters a token);
 *  2. retrieval quality on bench/fixtures/retrieval-quality.json (50 conversations, 100 later
 *     questions): hit rate of "the right memory for the question" at 1 and 3, before
 *     extraction (one transcript memory per conversation) and after (the extracted facts),
 *     on the lexical ranker, the semantic ranker and the hybrid fusion. The fake provider
 *     extracts exactly the fixture's facts (a perfect extraction), so "after" measures what
 *     retrieval gains from fact-sized memories, not a model's extraction quality. The
 *     semantic figures are the tiny test model's (random weights) unless
 *     BENCH_EXTRACTION_MODEL_DIR and BENCH_EXTRACTION_MODEL name a real model (MiniLM: see
 *     docs/benchmarks.md).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createDeps, createLogger } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config/env.js';
import { openDatabase } from '../../src/db/client.js';
import { newId } from '../../src/lib/ids.js';
import { closeConversation } from '../../src/services/conversations/close.js';
import { createConversation } from '../../src/services/conversations/index.js';
import { createIntegration } from '../../src/services/integrations/index.js';
import { retrieve, searchEngineOf } from '../../src/services/memories/search.js';
import { createWorkspaceTx } from '../../src/services/workspaces.js';
import { type ScriptedPrompt, startFakeProviders } from '../../tests/support/fake-providers.js';
import { writeTinyModel } from '../../tests/support/tiny-model.js';
import { fmt, freshPostgresDatabase, percentile, startServer, table } from '../lib.js';

interface FixtureConversation {
  id: string;
  title: string;
  messages: { role: 'user' | 'assistant'; content: string }[];
  facts: string[];
  questions: { question: string; fact: number }[];
}

const fixture: { conversations: FixtureConversation[] } = JSON.parse(readFileSync(new URL('../fixtures/retrieval-quality.json', import.meta.url), 'utf8'));

const MARKER = 'benchextract';
const API_KEY = `sk-${MARKER}-0123456789`;
/** Conversations closed in each mode of part 1. */
const CLOSES = 20;

/**
 * The fake provider's answers: the fixture's facts of the conversation whose messages the
 * extraction prompt shows (with the ids of the lines that state them); every fact ADDed.
 */
function fixtureScript(p: ScriptedPrompt): string {
  const prompt = p.turns[0]!.content;
  if (p.system.startsWith('You extract the facts')) {
    const lines = prompt.split('\n');
    const conversation = fixture.conversations.find((c) => c.messages.some((m) => m.role === 'user' && prompt.includes(m.content) && !m.content.startsWith('Hi,')));
    if (!conversation) return JSON.stringify({ facts: [] });
    const stated = conversation.messages.filter((m) => m.role === 'user' && !m.content.startsWith('Hi,'));
    return JSON.stringify({
      facts: conversation.facts.map((text, i) => ({
        text,
        messageIds: lines.filter((l) => stated[i] && l.includes(stated[i]!.content)).map((l) => /^\[([^\]]+)\]/.exec(l)![1]!),
      })),
    });
  }
  const facts = prompt.slice(prompt.indexOf('New facts:')).split('\n').filter((l) => /^\d+: /.test(l)).length;
  return JSON.stringify({ actions: Array.from({ length: facts }, (_, fact) => ({ event: 'ADD', fact })) });
}

const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), mean: values.reduce((a, b) => a + b, 0) / Math.max(1, values.length) };
};

/** Part 1: close latency with and without autoExtract, job time end to end, tokens per extraction. */
async function serverFigures(fake: Awaited<ReturnType<typeof startFakeProviders>>) {
  const database = await freshPostgresDatabase('extraction');
  const server = await startServer({ DATABASE_URL: database.url, DATABASE_POOL_SIZE: '10', ...fake.env, EMBEDDING_POLL_INTERVAL: '1s' });
  const sql = new pg.Client({ connectionString: database.url });
  await sql.connect();
  try {
    const api = async (path: string, init: { method?: string; token?: string; body?: unknown } = {}) => {
      const res = await fetch(`${server.url}/api${path}`, {
        method: init.method ?? 'GET',
        headers: { 'content-type': 'application/json', ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
      const body = (await res.json()) as { ok: boolean; data: any };
      if (!body.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
      return body.data;
    };
    const reg = await api('/auth/register', { method: 'POST', body: { name: 'Bench', email: `bench-${Date.now()}@example.test`, password: 'password123' } });
    const token: string = reg.token;
    await api('/integrations', { method: 'POST', token, body: { provider: 'openai', apiKey: API_KEY } });
    const { rows } = await sql.query<{ id: string }>('SELECT id FROM workspaces LIMIT 1');
    const plainWorkspace = rows[0]!.id;
    const extractingWorkspace: string = (await api('/workspaces', { method: 'POST', token, body: { name: 'Extracting' } })).id;
    await sql.query('UPDATE workspaces SET auto_extract = true WHERE id = $1', [extractingWorkspace]);

    /** A conversation of the fixture, its user messages sent (no reply wanted). */
    const prepared = async (workspaceId: string, c: FixtureConversation) => {
      const conversation = await api(`/workspaces/${workspaceId}/conversations`, { method: 'POST', token, body: { modelId: 'model-gpt-4o', title: c.title } });
      for (const m of c.messages.filter((m) => m.role === 'user')) {
        await api(`/conversations/${conversation.id}/messages`, { method: 'POST', token, body: { content: m.content, getAiResponse: false } });
      }
      return conversation.id as string;
    };
    const close = async (id: string) => {
      const started = performance.now();
      await api(`/conversations/${id}/close`, { method: 'POST', token });
      return { started, ms: performance.now() - started };
    };
    /** Closes with autoExtract on, then waits for the extraction: its time from the close sent, and its tokens. */
    const extract = async (c: FixtureConversation) => {
      const id = await prepared(extractingWorkspace, c);
      const { started, ms } = await close(id);
      for (;;) {
        const { extraction } = await api(`/conversations/${id}`, { token });
        if (extraction?.status === 'done' || extraction?.status === 'fallback') {
          if (extraction.status !== 'done') throw new Error(`extraction fell back: ${extraction.error}`);
          return { close: ms, endToEnd: performance.now() - started, tokens: extraction.result.tokens as number };
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    };

    const [warmup, measured] = [fixture.conversations.slice(0, 6), fixture.conversations.slice(6, 6 + 2 * CLOSES)];
    for (let i = 0; i < warmup.length; i += 2) {
      await close(await prepared(plainWorkspace, warmup[i]!));
      await extract(warmup[i + 1]!);
    }
    // Interleaved, so both kinds of close see the same state of the server and the database.
    const plain: number[] = [];
    const extracting: number[] = [];
    const endToEnd: number[] = [];
    const tokens: number[] = [];
    for (let i = 0; i < measured.length; i += 2) {
      plain.push((await close(await prepared(plainWorkspace, measured[i]!))).ms);
      const run = await extract(measured[i + 1]!);
      extracting.push(run.close);
      endToEnd.push(run.endToEnd);
      tokens.push(run.tokens);
    }
    const off = stats(plain);
    const on = stats(extracting);
    const job = stats(endToEnd);
    const tok = stats(tokens);
    console.log(`Closing a conversation (3 user messages; ${CLOSES} closes each, interleaved, one at a time, after ${warmup.length} warm-up closes), real server on PostgreSQL:`);
    table([
      { 'close': 'autoExtract off (transcript memory)', 'p50 ms': fmt(off.p50), 'p95 ms': fmt(off.p95) },
      { 'close': 'autoExtract on (extraction queued)', 'p50 ms': fmt(on.p50), 'p95 ms': fmt(on.p95) },
      { 'close': 'added by autoExtract (negative: queuing costs less than the transcript memory)', 'p50 ms': fmt(on.p50 - off.p50), 'p95 ms': fmt(on.p95 - off.p95) },
      { 'close': 'extraction end to end (close sent → done)', 'p50 ms': fmt(job.p50), 'p95 ms': fmt(job.p95) },
    ]);
    console.log(`Tokens per extraction (2 facts, both questions; counted by the fake provider): mean ${fmt(tok.mean, 0)}, p50 ${fmt(tok.p50, 0)}, p95 ${fmt(tok.p95, 0)}`);
  } finally {
    await sql.end();
    await server.stop();
    await database.drop();
  }
}

/** Part 2: hit rates before and after extraction, per ranker. */
async function qualityFigures(fake: Awaited<ReturnType<typeof startFakeProviders>>) {
  const realModel = process.env.BENCH_EXTRACTION_MODEL_DIR && process.env.BENCH_EXTRACTION_MODEL;
  const modelDir = process.env.BENCH_EXTRACTION_MODEL_DIR ?? mkdtempSync(join(tmpdir(), 'chimera-bench-model-'));
  const modelName = realModel ? process.env.BENCH_EXTRACTION_MODEL! : writeTinyModel(modelDir);
  const database = await freshPostgresDatabase('extractionquality');
  const db = await openDatabase({ kind: 'postgres', url: database.url, poolSize: 10 });
  await db.migrate();
  const config = loadConfig({
    NODE_ENV: 'development', DATA_DIR: mkdtempSync(join(tmpdir(), 'chimera-bench-extract-')), JWT_SECRET: 'b'.repeat(40), ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
    LOG_LEVEL: 'warn', BCRYPT_COST: '10', EMBEDDING_MODEL_DIR: modelDir, EMBEDDING_MODEL: modelName, ...fake.env,
  });
  const deps = await createDeps(config, { db, logger: createLogger(config) });
  try {
    const owner = await deps.prisma.user.create({ data: { email: `quality-${Date.now()}@bench.test`, name: 'Bench', passwordHash: 'x' } });
    await createIntegration(deps.prisma, config, owner.id, { provider: 'openai', apiKey: API_KEY });
    const before = await deps.prisma.$transaction((tx) => createWorkspaceTx(tx, owner, { name: 'Transcripts' }));
    const after = await deps.prisma.$transaction((tx) => createWorkspaceTx(tx, owner, { name: 'Facts' }));
    await deps.prisma.workspace.update({ where: { id: after.id }, data: { autoExtract: true } });

    /** The fixture's conversations in a workspace, closed; conversation id per fixture id. */
    const closeAll = async (workspaceId: string) => {
      const ids = new Map<string, string>();
      for (const c of fixture.conversations) {
        const conversation = await createConversation(deps.prisma, owner.id, workspaceId, { modelId: 'model-gpt-4o', title: c.title });
        const start = Date.now() - 60_000;
        await deps.prisma.chatMessage.createMany({
          data: c.messages.map((m, i) => ({ id: newId('msg'), conversationId: conversation.id, role: m.role, content: m.content, timestamp: new Date(start + i * 1000) })),
        });
        await closeConversation(deps.prisma, deps, { id: owner.id, autoStore: true }, conversation.id);
        ids.set(c.id, conversation.id);
      }
      return ids;
    };
    const transcripts = await closeAll(before.id);
    await closeAll(after.id);
    await deps.extractions.drain();
    await deps.embeddings.backlog.drain();
    const extractionTokens = (await deps.prisma.conversationExtraction.findMany({ where: { workspaceId: after.id } })).map((e) => (e.result as { tokens: number }).tokens);

    /** The memory holding a question's fact in each workspace. */
    const summaries = new Map((await deps.prisma.conversation.findMany({ where: { workspaceId: before.id } })).map((c) => [c.id, c.summaryMemoryId]));
    const facts = new Map((await deps.prisma.memory.findMany({ where: { workspaceId: after.id } })).map((m) => [m.content, m.id]));
    const engine = searchEngineOf(deps);
    const embedder = deps.embeddings.embedder;
    const rankers: Record<string, (workspaceId: string, question: string) => Promise<string[]>> = {
      lexical: async (workspaceId, query) => (await retrieve(deps.db, engine, { workspaceIds: [workspaceId], query, vector: null, topK: 3 })).results.map((r) => r.memory.id),
      [`semantic (${realModel ? modelName : 'tiny test model'})`]: async (workspaceId, query) =>
        (await deps.vectorIndex.search({ workspaceIds: [workspaceId], vector: (await embedder.embedQuery(query))!, model: embedder.modelId!, limit: 3, minScore: -1 })).map((h) => h.memoryId),
      [`hybrid (${realModel ? modelName : 'tiny test model'})`]: async (workspaceId, query) =>
        (await retrieve(deps.db, engine, { workspaceIds: [workspaceId], query, vector: await embedder.embedQuery(query), topK: 3 })).results.map((r) => r.memory.id),
    };
    const rows = [];
    for (const [ranker, rank] of Object.entries(rankers)) {
      for (const [label, workspaceId, right] of [
        ['before: transcript memories', before.id, (c: FixtureConversation) => summaries.get(transcripts.get(c.id)!)],
        ['after: extracted facts', after.id, (c: FixtureConversation, fact: number) => facts.get(c.facts[fact]!)],
      ] as const) {
        let at1 = 0;
        let at3 = 0;
        let total = 0;
        for (const c of fixture.conversations) {
          for (const q of c.questions) {
            const ids = await rank(workspaceId, q.question);
            const target = right(c, q.fact);
            total += 1;
            if (ids[0] === target) at1 += 1;
            if (ids.slice(0, 3).includes(target!)) at3 += 1;
          }
        }
        rows.push({ ranker, memories: label, 'hit@1': `${fmt((100 * at1) / total)}%`, 'hit@3': `${fmt((100 * at3) / total)}%`, questions: total });
      }
    }
    console.log(`\nRetrieval quality (bench/fixtures/retrieval-quality.json: ${fixture.conversations.length} conversations, ${rows[0]?.questions} questions; the right memory for each question):`);
    table(rows);
    const tok = stats(extractionTokens);
    console.log(`Extractions: ${facts.size} fact memories from ${extractionTokens.length} conversations; tokens per extraction mean ${fmt(tok.mean, 0)}, p50 ${fmt(tok.p50, 0)}`);
    if (!realModel) console.log('The semantic and hybrid rows use the tiny test model (random weights): only the lexical rows say something about retrieval.');
  } finally {
    await deps.extractions.stop();
    await deps.embeddings.stop();
    await deps.documentParser.close();
    await deps.rateLimitStore.close();
    await db.close();
    await database.drop();
  }
}

export default async function run() {
  const fake = await startFakeProviders({ keepAliveTimeoutMs: 10_000 });
  fake.script(MARKER, fixtureScript);
  try {
    if (process.env.BENCH_EXTRACTION !== 'quality') await serverFigures(fake);
    if (process.env.BENCH_EXTRACTION !== 'server') await qualityFigures(fake);
  } finally {
    await fake.close();
  }
}
