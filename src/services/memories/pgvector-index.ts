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
import { chunksWithoutEmbedding, ensureEmbeddingColumn, ensureHnswIndex, nearestChunks, storeEmbeddings } from '../../data/chunk-embeddings.js';
import { chunkChangesSince, indexStamps } from '../../data/index-stamps.js';
import type { Database } from '../../db/client.js';
import { bytesToVector } from '../../lib/vectors.js';
import type { VectorHit, VectorIndex, VectorIndexStats, VectorQuery } from './vector-index.js';

/** Chunks filled per UPDATE. */
const FILL_BATCH = 1000;
/** hnsw.ef_search: the candidate list; 100 keeps recall@10 ≥ 0.98 at 10^5 chunks (bench). */
const EF_SEARCH = 100;

const toText = (v: Float32Array) => `[${Array.from(v).join(',')}]`;

export class PgVectorIndex implements VectorIndex {
  /** Per workspace: the stamp version up to which every chunk has its embedding. */
  private readonly filled = new Map<string, bigint>();
  private readonly filling = new Map<string, Promise<void>>();
  private readonly indexed = new Map<number, Promise<void>>();
  private ready: Promise<void> | null = null;

  constructor(private readonly db: Pick<Database, 'query' | 'prisma'>) {}

  async search(query: VectorQuery): Promise<VectorHit[]> {
    if (query.workspaceIds.length === 0 || query.limit <= 0) return [];
    await this.prepare(query.vector.length);
    const stamps = await indexStamps(this.db, query.workspaceIds);
    await Promise.all(stamps.map((s) => this.fill(s.workspaceId, s.version)));
    const present = stamps.map((s) => s.workspaceId);
    if (present.length === 0) return [];
    // A memory may own several of the nearest chunks: ask for more chunks than memories.
    const chunks = await nearestChunks(this.db, {
      workspaceIds: present, model: query.model, dimensions: query.vector.length, embedding: toText(query.vector),
      limit: query.limit * 4 + 20, allowed: query.allowed ? [...query.allowed] : undefined, efSearch: EF_SEARCH,
    });
    const hits: VectorHit[] = [];
    const seen = new Set<string>();
    for (const c of chunks) {
      const score = 1 - c.distance;
      if (seen.has(c.memoryId) || !(score >= query.minScore)) continue;
      seen.add(c.memoryId);
      hits.push({ memoryId: c.memoryId, score: Math.min(1, score) });
      if (hits.length === query.limit) break;
    }
    return hits;
  }

  stats(): VectorIndexStats {
    return { backend: 'pgvector', cachedMb: 0, cachedWorkspaces: 0, budgetMb: null };
  }

  /** The column, then the HNSW index of this dimension count, once per process. */
  private async prepare(dimensions: number): Promise<void> {
    this.ready ??= ensureEmbeddingColumn(this.db).catch((error: unknown) => {
      this.ready = null;
      throw error;
    });
    await this.ready;
    let index = this.indexed.get(dimensions);
    if (!index) {
      index = ensureHnswIndex(this.db, dimensions).catch((error: unknown) => {
        this.indexed.delete(dimensions);
        throw error;
      });
      this.indexed.set(dimensions, index);
    }
    await index;
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
