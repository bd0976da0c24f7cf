/**
 * The vector index on pgvector: the database holds the vectors (an `embedding` column filled
 * from the chunks' bytes) under an HNSW index, so this process caches none and every instance
 * sharing the database searches the same index. Approximate: recall@10 against the exact scan
 * is measured by bench `vector-index`.
 *
 * Writers store only the bytes; before searching a workspace whose stamp moved, the index fills
 * the embeddings of the memories changed since (the chunk change log), so a memory is findable
 * by meaning as soon as its chunks are stored, whoever wrote them.
 */
import { chunksWithoutEmbedding, chunksWithoutEmbeddingPage, ensureEmbeddingColumn, fillEmbeddingsBinary, ensureHnswIndex, hnswIndexExists, nearestChunks, storeEmbeddings } from '../../data/chunk-embeddings.js';
import { chunkChangesSince, indexStamps } from '../../data/index-stamps.js';
import type { Database } from '../../db/client.js';
import { bytesToVector } from '../../lib/vectors.js';
import type { VectorHit, VectorIndex, VectorIndexStats, VectorQuery } from './vector-index.js';

/** Chunks filled per UPDATE. */
const FILL_BATCH = 1000;
/** The most chunks one search asks the HNSW index for (its iterative scan stops at 20,000 tuples anyway). */
const MAX_WINDOW = 5000;
/**
 * A filter on at most this many memories (a tag on a few of them) is ranked exactly over their
 * chunks, about ten each: cheaper than walking the graph past every row it drops, and the hits
 * are exact (the memory backend's scan does the same for a filter on few rows). Bench
 * `vector-index`: the tag filter's recall@10 through the graph was 0.95 at 3·10^4 chunks.
 */
export const EXACT_FILTER_MEMORIES = 2000;
/** Chunks read and written per statement by the first fill (before the HNSW index exists). */
const BULK_FILL_BATCH = 5000;
/**
 * hnsw.ef_search: the candidate list of each search, recall against latency. Bench
 * `vector-index` (clustered corpus, recall@10 of memories against the exact scan, scoped, tagged
 * and multi-workspace searches): at 10^4 chunks 100 gave 0.94–1.00, 200 gave 0.965–1.00, 400
 * gave 0.99–1.00 for every kind; recall falls as the bank grows, so 400.
 */
export const EF_SEARCH = 400;

/** pgvector's text form; 9 significant digits give back the same float4. */
const toText = (v: Float32Array) => {
  const parts = new Array<string>(v.length);
  for (let i = 0; i < v.length; i++) parts[i] = v[i]!.toPrecision(9);
  return `[${parts.join(',')}]`;
};

export interface PgVectorIndexOptions {
  /** hnsw.ef_search (default EF_SEARCH); the bench compares several on one index. */
  efSearch?: number;
}

export class PgVectorIndex implements VectorIndex {
  /** Per workspace: the stamp version up to which every chunk has its embedding. */
  private readonly filled = new Map<string, bigint>();
  private readonly filling = new Map<string, Promise<void>>();
  private readonly indexed = new Map<number, Promise<void>>();
  private ready: Promise<void> | null = null;
  private readonly efSearch: number;

  constructor(private readonly db: Pick<Database, 'kind' | 'query' | 'prisma' | 'copyBinary' | 'copyIn'>, options: PgVectorIndexOptions = {}) {
    this.efSearch = options.efSearch ?? EF_SEARCH;
  }

  async search(query: VectorQuery): Promise<VectorHit[]> {
    if (query.workspaceIds.length === 0 || query.limit <= 0) return [];
    await this.prepare(query.vector.length);
    const stamps = await indexStamps(this.db, query.workspaceIds);
    await Promise.all(stamps.map((s) => this.fill(s.workspaceId, s.version)));
    const present = stamps.map((s) => s.workspaceId);
    if (present.length === 0) return [];
    // A memory may own several of the nearest chunks: ask for more chunks than memories, and
    // for more again while fewer than `limit` distinct memories came back from a full window
    // (memories of many similar chunks would otherwise crowd the rest out of the top-k).
    const hits: VectorHit[] = [];
    for (let window = query.limit * 4 + 20; ; window *= 4) {
      const chunks = await nearestChunks(this.db, {
        workspaceIds: present, model: query.model, dimensions: query.vector.length, embedding: toText(query.vector),
        limit: window, allowed: query.allowed ? [...query.allowed] : undefined, efSearch: this.efSearch,
        exact: query.allowed !== undefined && query.allowed.size <= EXACT_FILTER_MEMORIES,
      });
      hits.length = 0;
      const seen = new Set<string>();
      for (const c of chunks) {
        const score = 1 - c.distance;
        if (seen.has(c.memoryId) || !(score >= query.minScore)) continue;
        seen.add(c.memoryId);
        hits.push({ memoryId: c.memoryId, score: Math.min(1, score) });
        if (hits.length === query.limit) break;
      }
      const belowMin = chunks.length > 0 && !(1 - chunks[chunks.length - 1]!.distance >= query.minScore);
      if (hits.length === query.limit || chunks.length < window || belowMin || window >= MAX_WINDOW) return hits;
    }
  }

  stats(): VectorIndexStats {
    return { backend: 'pgvector', cachedMb: 0, cachedWorkspaces: 0, budgetMb: null };
  }

  /**
   * The column, then the HNSW index of this dimension count, once per process. Where the index
   * does not exist yet, every chunk of that dimension count is filled first and the index built
   * over them in one pass (inserting each row into an existing graph is many times slower).
   */
  private async prepare(dimensions: number): Promise<void> {
    await this.column();
    let index = this.indexed.get(dimensions);
    if (!index) {
      index = this.build(dimensions).catch((error: unknown) => {
        this.indexed.delete(dimensions);
        throw error;
      });
      this.indexed.set(dimensions, index);
    }
    await index;
  }

  private column(): Promise<void> {
    this.ready ??= ensureEmbeddingColumn(this.db).catch((error: unknown) => {
      this.ready = null;
      throw error;
    });
    return this.ready;
  }

  private async build(dimensions: number): Promise<void> {
    if (await hnswIndexExists(this.db, dimensions)) return;
    await this.fillAll(dimensions);
    await ensureHnswIndex(this.db, dimensions);
  }

  /** Fills every chunk of this dimension count that has no embedding, in id order. */
  async fillAll(dimensions: number): Promise<number> {
    await this.column();
    if (this.db.copyIn) return fillEmbeddingsBinary(this.db, dimensions, BULK_FILL_BATCH);
    // PostgreSQL: the text form, which the server parses quickly.
    let after: string | null = null;
    let filled = 0;
    for (;;) {
      const page = await chunksWithoutEmbeddingPage(this.db, dimensions, after, BULK_FILL_BATCH);
      if (page.length === 0) return filled;
      await storeEmbeddings(this.db, page.map((c) => ({ id: c.id, embedding: toText(bytesToVector(c.vector)) })));
      filled += page.length;
      after = page[page.length - 1]!.id;
    }
  }

  /** Fills the embeddings missing in the workspace up to stamp `version` (one filler per workspace). */
  private async fill(workspaceId: string, version: bigint): Promise<void> {
    for (;;) {
      const done = this.filled.get(workspaceId);
      if (done !== undefined && done >= version) return;
      const pending = this.filling.get(workspaceId);
      if (pending) {
        await pending.catch(() => undefined);
        continue;
      }
      const run = this.fillSince(workspaceId, done, version).finally(() => this.filling.delete(workspaceId));
      this.filling.set(workspaceId, run);
      return run;
    }
  }

  private async fillSince(workspaceId: string, since: bigint | undefined, version: bigint): Promise<void> {
    let upTo = version;
    let scope: { workspaceId: string } | { memoryIds: string[] } = { workspaceId };
    if (since !== undefined) {
      const changes = await chunkChangesSince(this.db, workspaceId, since);
      if (changes.version > upTo) upTo = changes.version;
      scope = { memoryIds: changes.memoryIds };
    }
    const missing = 'memoryIds' in scope && scope.memoryIds.length === 0 ? [] : await chunksWithoutEmbedding(this.db, scope);
    for (let i = 0; i < missing.length; i += FILL_BATCH) {
      await storeEmbeddings(this.db, missing.slice(i, i + FILL_BATCH).map((c) => ({ id: c.id, embedding: toText(bytesToVector(c.vector)) })));
    }
    // The fill is itself a chunk update (the change-log trigger bumps the stamp): the next search
    // looks at those memories once more, finds nothing missing and writes nothing.
    this.filled.set(workspaceId, upTo);
  }
}
