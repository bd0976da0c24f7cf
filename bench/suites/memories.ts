/**
 * Memory bank figures:
 *  1. search latency p50/p95 with 10,000 and 100,000 chunks in one workspace (retrieval
 *     only, the query already embedded; query embedding timed separately);
 *  2. ingestion through the API with the tiny model (memories/s until embedded) and the
 *     embedding wrapper's overhead against raw onnxruntime-node on the same model;
 *  3. event-loop delay p99 of the server while it embeds 5,000 memories and serves /api/health.
 * PostgreSQL on 127.0.0.1; the tiny BERT-shaped model of the tests (H=384, as MiniLM).
 */
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import ortModule from 'onnxruntime-node';
import { createApp } from '../../src/app.js';
import type { AppDeps } from '../../src/app-deps.js';
import { createDeps, createLogger } from '../../src/bootstrap.js';
import type { ChunkVectorRow } from '../../src/data/memory-chunks.js';
import { loadConfig } from '../../src/config/env.js';
import { openDatabase } from '../../src/db/client.js';
import { newId } from '../../src/lib/ids.js';
import { loadEmbeddingModel } from '../../src/services/embeddings/model.js';
import { vectorToBytes } from '../../src/lib/vectors.js';
import { retrieve, searchEngineOf } from '../../src/services/memories/search.js';
import { buildMatrix, type ScanStats, searchMatrix } from '../../src/services/memories/vector-index.js';
import { createWorkspaceTx } from '../../src/services/workspaces.js';
import { writeTinyModel } from '../../tests/support/tiny-model.js';
import { fmt, freshPostgresDatabase, percentile, prng, table, unitVector } from '../lib.js';

const ort = ortModule as typeof import('onnxruntime-node');
const DIMS = 384;
/** A 5,000-word pseudo-vocabulary, so a query matches a realistic share of memories lexically. */
const WORDS = Array.from({ length: 5000 }, (_, i) => `w${i.toString(36)}x${(i * 7919 % 997).toString(36)}`);

/** Words the tiny model's tokenizer knows (for what gets embedded). */
const KNOWN = 'the cat dog rocket launch moon mars pizza cheese recipe music guitar song weather rain storm python code database index query vector memory embedding project meeting notes alpha beta gamma'.split(' ');
const known = (rand: () => number, n: number) => Array.from({ length: n }, () => KNOWN[Math.floor(rand() * KNOWN.length)]).join(' ');

const sentence = (rand: () => number, n: number) => Array.from({ length: n }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ');

async function benchDeps(label: string, env: Record<string, string> = {}) {
  const database = await freshPostgresDatabase(label);
  const db = await openDatabase({ kind: 'postgres', url: database.url, poolSize: 10 });
  await db.migrate();
  const config = loadConfig({ NODE_ENV: 'development', DATA_DIR: mkdtempSync(join(tmpdir(), 'chimera-bench-mem-')), JWT_SECRET: 'b'.repeat(40), ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'), LOG_LEVEL: 'warn', BCRYPT_COST: '10', ...env });
  const deps = await createDeps(config, { db, logger: createLogger(config) });
  const owner = await deps.prisma.user.create({ data: { email: `${label}-${Date.now()}@bench.test`, name: 'Bench', passwordHash: 'x' } });
  const workspace = await deps.prisma.$transaction((tx) => createWorkspaceTx(tx, owner, { name: 'Bench' }));
  return { deps, owner, workspace, drop: async () => { await deps.embeddings.stop(); await db.close(); await database.drop(); } };
}

/** Fills one workspace with `chunks` synthetic chunks (10 per memory), ready under `model`. */
async function seed(deps: AppDeps, workspaceId: string, chunks: number, model: string) {
  const rand = prng(chunks);
  const perMemory = 10;
  for (let start = 0; start < chunks / perMemory; start += 500) {
    const memories = Array.from({ length: Math.min(500, chunks / perMemory - start) }, () => ({
      id: newId('memory'), workspaceId, title: sentence(rand, 4), content: sentence(rand, 60), embeddingStatus: 'ready', embeddingModel: model,
    }));
    await deps.prisma.memory.createMany({ data: memories });
    await deps.prisma.memoryChunk.createMany({
      data: memories.flatMap((m) => Array.from({ length: perMemory }, (_, chunkIndex) => ({
        memoryId: m.id, workspaceId, chunkIndex, content: m.content, vector: vectorToBytes(unitVector(rand)), dimensions: DIMS, model,
      }))),
    });
  }
  await deps.prisma.workspaceIndexStamp.upsert({ where: { workspaceId }, create: { workspaceId, version: 1 }, update: { version: { increment: 1 } } });
  // Planner statistics, as autovacuum keeps them on a running database (it analyzes a table
  // within about a minute of this many new rows). Without them, right after a bulk load, the
  // planner takes the workspace index over the full-text one: lexical-only search costs about
  // 16 ms at 10,000 memories instead of 3 (measured by hand with EXPLAIN ANALYZE).
  await deps.db.query('ANALYZE memories, memory_chunks');
}

async function searchLatency(modelDir: string, modelName: string) {
  const rows: Record<string, string | number>[] = [];
  const kernels: Record<string, string | number>[] = [];
  for (const chunks of [10_000, 100_000]) {
    const { deps, workspace, drop } = await benchDeps(`search${chunks}`, { EMBEDDING_MODEL_DIR: modelDir, EMBEDDING_MODEL: modelName });
    try {
      await seed(deps, workspace.id, chunks, modelName);
      await deps.embeddings.embedder.load();
      const rand = prng(7);
      const queries = Array.from({ length: 200 }, () => ({ text: sentence(rand, 4), vector: unitVector(rand) }));
      const engine = searchEngineOf(deps);
      const coldStart = performance.now();
      await retrieve(deps.db, engine, { workspaceIds: [workspace.id], query: queries[0]!.text, vector: queries[0]!.vector, topK: 10 });
      const coldMs = performance.now() - coldStart;
      const hybrid: number[] = [];
      const vectorOnly: number[] = [];
      for (const q of queries) {
        let t = performance.now();
        await retrieve(deps.db, engine, { workspaceIds: [workspace.id], query: q.text, vector: q.vector, topK: 10 });
        hybrid.push(performance.now() - t);
        t = performance.now();
        await deps.vectorIndex.search({ workspaceIds: [workspace.id], vector: q.vector, model: modelName, limit: 50, minScore: 0.2 });
        vectorOnly.push(performance.now() - t);
      }
      // Lexical-only retrieval (no query vector): the full-text query and the row fetch alone.
      const lexicalOnly: number[] = [];
      // Every memory eligible (minScore −1): the two-pass scan's worst case, the threshold set by the top-k alone.
      const vectorAll: number[] = [];
      for (const q of queries) {
        let t = performance.now();
        await retrieve(deps.db, engine, { workspaceIds: [workspace.id], query: q.text, vector: null, topK: 10 });
        lexicalOnly.push(performance.now() - t);
        t = performance.now();
        await deps.vectorIndex.search({ workspaceIds: [workspace.id], vector: q.vector, model: modelName, limit: 50, minScore: -1 });
        vectorAll.push(performance.now() - t);
      }
      const embed: number[] = [];
      for (const q of queries.slice(0, 100)) {
        const t = performance.now();
        await deps.embeddings.embedder.embedQuery(q.text);
        embed.push(performance.now() - t);
      }
      [hybrid, vectorOnly, vectorAll, lexicalOnly, embed].forEach((l) => l.sort((a, b) => a - b));
      rows.push({
        chunks,
        'hybrid p50 ms': fmt(percentile(hybrid, 50), 2), 'hybrid p95 ms': fmt(percentile(hybrid, 95), 2),
        'vector-only p50 ms': fmt(percentile(vectorOnly, 50), 2), 'vector-only p95 ms': fmt(percentile(vectorOnly, 95), 2),
        'vector-only minScore -1 p95 ms': fmt(percentile(vectorAll, 95), 2),
        'lexical-only p50 ms': fmt(percentile(lexicalOnly, 50), 2), 'lexical-only p95 ms': fmt(percentile(lexicalOnly, 95), 2),
        'cold index load ms': fmt(coldMs, 0),
        'query embed p50 ms (tiny, worker)': fmt(percentile(embed, 50), 2),
      });
      kernels.push(...(await kernelCpu(deps, workspace.id, modelName, chunks, queries.map((q) => q.vector))));
    } finally {
      await drop();
    }
  }
  console.log('Search latency (one workspace, 10 chunks per memory, retrieval excludes query embedding; target p95 ≤ 25 ms at 100k):');
  table(rows);
  console.log('Vector scan alone, CPU time per query (process CPU, in isolation; top 50 memories):');
  table(kernels);
}

/**
 * The scan kernels on the same chunks, without the database: CPU time per query of the exact
 * float32 scan (WebAssembly SIMD and the JavaScript fallback) and of the int8 + float32
 * rescoring two-pass scan, with the rows it rescored.
 */
async function kernelCpu(deps: AppDeps, workspaceId: string, model: string, chunks: number, vectors: Float32Array[]) {
  const stored = await deps.db.query<ChunkVectorRow>(
    'SELECT memory_id AS "memoryId", vector FROM memory_chunks WHERE workspace_id = $1 ORDER BY memory_id, chunk_index', [workspaceId]);
  const variants = [
    { scan: 'two-pass int8 + f32 rescoring (wasm)', kernel: 'wasm' as const, quantizeFrom: 0 },
    { scan: 'exact f32 (wasm SIMD)', kernel: 'wasm' as const, quantizeFrom: Infinity },
    { scan: 'exact f32 (JavaScript fallback)', kernel: 'js' as const, quantizeFrom: Infinity },
  ];
  const out: Record<string, string | number>[] = [];
  for (const v of variants) {
    const matrix = buildMatrix(stored, { version: 1n, model, dimensions: DIMS, kernel: v.kernel, quantizeFrom: v.quantizeFrom });
    for (const minScore of [0.2, -1]) {
      const n = v.kernel === 'js' ? 20 : vectors.length;
      const stats: ScanStats = { rescored: 0 };
      let rescored = 0;
      const cpu: number[] = [];
      for (const vector of vectors.slice(0, n)) {
        const before = process.cpuUsage();
        searchMatrix(matrix, { workspaceIds: [workspaceId], vector, model, limit: 50, minScore }, stats);
        const used = process.cpuUsage(before);
        cpu.push((used.user + used.system) / 1000);
        rescored += stats.rescored;
      }
      cpu.sort((a, b) => a - b);
      out.push({ chunks, scan: v.scan, minScore, 'CPU ms/query p50': fmt(percentile(cpu, 50), 2), 'CPU ms/query mean': fmt(cpu.reduce((a, b) => a + b, 0) / n, 2), 'rows rescored/query': fmt(rescored / n, 0) });
    }
  }
  return out;
}

async function wrapperOverhead(modelDir: string, modelName: string) {
  const model = await loadEmbeddingModel({ modelDir, modelName, allowDownload: false, chunkTokens: 256, chunkOverlap: 32 });
  const rand = prng(3);
  const texts = Array.from({ length: 32 }, () => known(rand, 40));
  const session = await ort.InferenceSession.create(join(modelDir, modelName, 'onnx', 'model_quantized.onnx'));
  // Raw inputs with the same shape the wrapper feeds (batch 32 × the padded length).
  const seq = 42;
  const ids = BigInt64Array.from({ length: 32 * seq }, (_, i) => BigInt(5 + (i % 50)));
  const feeds = {
    input_ids: new ort.Tensor('int64', ids, [32, seq]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(32 * seq).fill(1n), [32, seq]),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(32 * seq), [32, seq]),
  };
  const time = async (fn: () => Promise<unknown>, n = 50) => {
    for (let i = 0; i < 5; i++) await fn();
    const t = performance.now();
    for (let i = 0; i < n; i++) await fn();
    return (performance.now() - t) / n;
  };
  const wrapped = await time(() => model.embed(texts));
  const raw = await time(() => session.run(feeds));
  console.log('Embedding wrapper vs raw onnxruntime-node (tiny model H=384, batch of 32 texts of ~42 tokens):');
  table([{ 'wrapper ms/batch (tokenize+run+pool)': fmt(wrapped, 2), 'raw session.run ms/batch': fmt(raw, 2), ratio: fmt(wrapped / raw, 2), 'wrapper texts/s': fmt((32 * 1000) / wrapped, 0) }]);
}

async function ingestionAndEventLoop(modelDir: string, modelName: string) {
  const { deps, workspace, owner, drop } = await benchDeps('ingest', { EMBEDDING_MODEL_DIR: modelDir, EMBEDDING_MODEL: modelName, EMBEDDING_POLL_INTERVAL: '1s' });
  const app = createApp(deps);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    deps.embeddings.start();
    await deps.embeddings.embedder.load();
    const { signToken } = await import('../../src/services/auth/tokens.js');
    const auth = { Authorization: `Bearer ${signToken(deps.config, 'access', owner.id).token}`, 'Content-Type': 'application/json' };
    const rand = prng(11);

    // (2) end-to-end ingestion through the API: create 1,000 memories (8 in flight), until all embedded.
    const total = 1000;
    const started = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < total) {
        next++;
        const res = await fetch(`${base}/api/workspaces/${workspace.id}/memories`, { method: 'POST', headers: auth, body: JSON.stringify({ title: known(rand, 4), content: known(rand, 80) }) });
        if (res.status !== 201) throw new Error(`create failed ${res.status}`);
      }
    }));
    const createdMs = performance.now() - started;
    await deps.embeddings.backlog.drain();
    const readyMs = performance.now() - started;
    console.log('Ingestion through the API (tiny model, 80-word memories, 8 concurrent clients):');
    table([{ memories: total, 'created/s (HTTP 201)': fmt(total / (createdMs / 1000), 0), 'embedded/s end to end': fmt(total / (readyMs / 1000), 0) }]);

    // (3) event-loop delay while 5,000 memories are embedded and /api/health is polled.
    const bulk = 5000;
    for (let i = 0; i < bulk; i += 1000) {
      await deps.prisma.memory.createMany({ data: Array.from({ length: 1000 }, () => ({ id: newId('memory'), workspaceId: workspace.id, title: known(rand, 4), content: known(rand, 80) })) });
    }
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    const health: number[] = [];
    let draining = true;
    const poller = (async () => {
      while (draining) {
        const t = performance.now();
        await fetch(`${base}/api/health`).then((r) => r.arrayBuffer());
        health.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    histogram.enable();
    const bulkStart = performance.now();
    deps.embeddings.nudge();
    await deps.embeddings.backlog.drain();
    const bulkMs = performance.now() - bulkStart;
    histogram.disable();
    draining = false;
    await poller;
    health.sort((a, b) => a - b);
    console.log('Event loop during a bulk embed of 5,000 memories while serving GET /api/health (target p99 ≤ 20 ms):');
    table([{
      'bulk embed s': fmt(bulkMs / 1000, 1), 'memories/s': fmt(bulk / (bulkMs / 1000), 0),
      'event-loop delay p50 ms': fmt(histogram.percentile(50) / 1e6, 2), 'event-loop delay p99 ms': fmt(histogram.percentile(99) / 1e6, 2), 'max ms': fmt(histogram.max / 1e6, 1),
      'health requests': health.length, 'health p50 ms': fmt(percentile(health, 50), 1), 'health p99 ms': fmt(percentile(health, 99), 1),
    }]);
  } finally {
    await new Promise((r) => server.close(() => r(null)));
    await drop();
  }
}

export default async function run() {
  const modelDir = mkdtempSync(join(tmpdir(), 'chimera-bench-model-'));
  const modelName = writeTinyModel(modelDir);
  // BENCH_MEMORIES=search (or ingest) runs one part.
  const only = process.env.BENCH_MEMORIES;
  if (!only || only === 'ingest') await wrapperOverhead(modelDir, modelName);
  if (!only || only === 'search') await searchLatency(modelDir, modelName);
  if (!only || only === 'ingest') await ingestionAndEventLoop(modelDir, modelName);
}
