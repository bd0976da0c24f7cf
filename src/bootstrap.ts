/** Wires the dependencies of one server instance; shared by the server and the tests. */
import { readFileSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import type { AppDeps } from './app-deps.js';
import type { Config } from './config/env.js';
import { estimatedChunkCount, pgvectorAvailable } from './data/chunk-embeddings.js';
import { type Database, databaseOptionsFrom, openDatabase } from './db/client.js';
import { createRateLimitStoreFactory, requestCounter } from './http/middleware/rate-limit.js';
import { bearerAuthenticator } from './services/auth/authenticate.js';
import { EmbeddingService } from './services/embeddings/index.js';
import { ExtractionQueue } from './services/extraction/queue.js';
import { processEventLoop } from './services/event-loop.js';
import { HealthRegistry } from './services/health.js';
import { DocumentParser } from './services/imports/parser-pool.js';
import { PgVectorIndex } from './services/memories/pgvector-index.js';
import { searchEngineOf } from './services/memories/search.js';
import { InMemoryVectorIndex, type VectorIndex } from './services/memories/vector-index.js';
import { type BackgroundWork, tracker } from './lib/background.js';

export const packageVersion: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

/** Paths whose values are secrets; pino replaces them wherever they appear in a log object. */
export const REDACT_PATHS = [
  'password', '*.password', 'currentPassword', '*.currentPassword', 'newPassword', '*.newPassword', 'token', '*.token', 'refresh', '*.refresh', 'apiKey', '*.apiKey', 'api_key', '*.api_key', 'key', '*.key',
  'authorization', '*.authorization', 'req.headers.authorization', 'headers.authorization', 'jwtSecret', '*.jwtSecret',
];

export function createLogger(config: Pick<Config, 'logLevel'>, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level: config.logLevel, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'chimera-api' } },
    destination as never,
  );
}

export async function createDeps(config: Config, options: { db?: Database; logger?: Logger } = {}): Promise<AppDeps> {
  const logger = options.logger ?? createLogger(config);
  const dbOptions = databaseOptionsFrom(config);
  if (dbOptions.kind === 'pglite') {
    dbOptions.onInitError = (error) => logger.warn({ err: error }, 'new embedded database not copied from its template; PGlite runs initdb in this process');
  }
  const db = options.db ?? (await openDatabase(dbOptions));
  const background: BackgroundWork = new Set();
  const health = new HealthRegistry(db, config.version, config.databaseTimeoutMs);
  const embeddings = new EmbeddingService(config.embeddings, db.prisma, logger, background);
  health.register('embeddings', () => embeddings.health());
  const rateLimitStore = createRateLimitStoreFactory(config.redisUrl, config.redisKeyPrefix, logger);
  const countKeyRequest = requestCounter(rateLimitStore, 'api-key', config.apiKeyRateLimit);
  const vectorIndex = await chooseVectorIndex(config, db, logger);
  const track = tracker(background);
  const engine = searchEngineOf({ embeddings, vectorIndex, config });
  const extractions = new ExtractionQueue({ config, db, engine, logger }, () => embeddings.nudge(), config.embeddings.pollIntervalMs, track);
  const eventLoop = processEventLoop();
  health.register('eventLoop', () => eventLoop.health());
  health.register('vectorIndex', () => ({ status: 'ok', ...vectorIndex.stats() }));
  health.register('memory', () => memoryReport(db, vectorIndex, embeddings));
  return {
    config,
    db,
    prisma: db.prisma,
    logger,
    health,
    authenticator: bearerAuthenticator(config, db, { countKeyRequest, background }),
    rateLimitStore,
    background,
    embeddings,
    extractions,
    vectorIndex,
    documentParser: new DocumentParser(config.imports, logger),
  };
}

const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

/** Where this process's memory goes: the health report's `memory` component. */
function memoryReport(db: Database, vectorIndex: VectorIndex, embeddings: EmbeddingService) {
  const usage = process.memoryUsage();
  return {
    status: 'ok',
    rssMb: mb(usage.rss),
    heapMb: mb(usage.heapUsed),
    vectorsMb: vectorIndex.stats().cachedMb,
    buffersMb: mb(usage.arrayBuffers),
    embeddingModel: embeddings.embedder.state === 'ready' ? 'loaded' : 'not loaded',
    database: db.kind === 'pglite' ? 'in process' : 'separate server',
  };
}

/**
 * Bytes the memory index holds per chunk of 384 dimensions (float32 rows, the int8 copy of the
 * first pass, ids): 253.8 MB for 120,000 chunks in bench `vector-index`, 1M chunks.
 */
export const CACHED_BYTES_PER_CHUNK = 2200;

/**
 * `auto`'s rule. pgvector, on a PostgreSQL server that has the extension, when either
 *  - the bank is larger than VECTOR_CACHE_MB holds (about 120,000 chunks of 384 dimensions at
 *    the default 256 MB): the exact index would keep evicting and reloading workspaces (a cold
 *    load of 10,000 chunks takes tens of milliseconds and moves 15 MB), while HNSW with
 *    ef_search 400 measured recall@10 ≥ 0.99 against the exact scan on clustered vectors; or
 *  - several instances share the database (REDIS_URL set, as for their shared rate limits):
 *    one index in the database instead of a copy of every searched workspace per instance,
 *    each cold-loaded on its own.
 * Never on the embedded database: PGlite runs on the server's own thread, so the fill and the
 * HNSW build (over two minutes at the bench's 100,000 clustered chunks, docs/benchmarks.md) would
 * freeze the server at its first search, and every search after runs on that thread too.
 * Otherwise memory: exact results, and a small bank fits its cache.
 */
export function autoPicksPgvector(o: { available: boolean; embedded: boolean; chunks: number; vectorCacheMb: number; sharedInstances: boolean }): boolean {
  if (!o.available || o.embedded) return false;
  return o.sharedInstances || o.chunks * CACHED_BYTES_PER_CHUNK > o.vectorCacheMb * 2 ** 20;
}

/**
 * VECTOR_BACKEND: `memory` or `pgvector` as asked (pgvector refuses to start without the
 * extension); `auto` as autoPicksPgvector says, from the planner's estimate of the chunk count.
 */
async function chooseVectorIndex(config: Config, db: Database, logger: Logger): Promise<VectorIndex> {
  const memory = () => new InMemoryVectorIndex(db, { budgetBytes: config.vectorCacheMb * 2 ** 20 });
  if (config.vectorBackend === 'memory') return memory();
  // Unreachable at start-up, the database cannot say: auto keeps the exact index, which needs nothing of it.
  const available = await pgvectorAvailable(db).catch((error: unknown) => {
    if (config.vectorBackend === 'pgvector') throw error;
    logger.warn({ err: error }, 'could not check for pgvector; vector index: memory');
    return false;
  });
  if (config.vectorBackend === 'pgvector') {
    if (!available) throw new Error('VECTOR_BACKEND=pgvector, but the database has no pgvector extension (CREATE EXTENSION vector)');
    return new PgVectorIndex(db);
  }
  const chunks = available ? await estimatedChunkCount(db) : 0;
  // PGlite lives in one process: only a PostgreSQL server can be shared.
  const sharedInstances = db.kind === 'postgres' && config.redisUrl !== null;
  const chosen = autoPicksPgvector({ available, embedded: db.kind === 'pglite', chunks, vectorCacheMb: config.vectorCacheMb, sharedInstances }) ? new PgVectorIndex(db) : memory();
  logger.info({ vectorBackend: chosen.stats().backend, pgvectorAvailable: available, estimatedChunks: chunks, sharedInstances }, 'vector index chosen');
  return chosen;
}
