/**
 * The pgvector copy of memory chunk vectors: every statement on `memory_chunks.embedding` and
 * its HNSW indexes.
 *
 * Why outside the migrations: the column's type exists only where the `vector` extension is
 * installed (PGlite ships it; Debian's PostgreSQL and many servers do not), and a migration
 * must apply everywhere. So the column and its indexes are created at start-up, only when the
 * pgvector backend is chosen, with IF NOT EXISTS; schema.prisma does not know them and the
 * drift check (tests/db/migrations.test.ts) replays the migrations alone, so it never sees them.
 * `vector` (bytea) stays the source of truth; `embedding` is filled from it.
 */
import type { Database } from '../db/client.js';

type Db = Pick<Database, 'query' | 'prisma'>;

/** Whether the server can load the `vector` extension. */
export async function pgvectorAvailable(db: Pick<Database, 'query'>): Promise<boolean> {
  // Plain pool: a catalog probe at start-up.
  const rows = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_available_extensions WHERE name = 'vector'");
  return rows[0]!.n > 0;
}

/** The planner's estimate of the chunk count (no scan): `auto` picks pgvector for a large bank. */
export async function estimatedChunkCount(db: Pick<Database, 'query'>): Promise<number> {
  // Plain pool: a catalog read; 0 before the first migration.
  const rows = await db.query<{ n: string | null }>("SELECT max(reltuples)::bigint::text AS n FROM pg_class WHERE relname = 'memory_chunks'");
  return Math.max(0, Number(rows[0]?.n ?? 0));
}

/** The extension and the column (idempotent). */
export async function ensureEmbeddingColumn(db: Pick<Database, 'query'>): Promise<void> {
  // Raw DDL: see the module comment for why this is not a migration.
  await db.query('CREATE EXTENSION IF NOT EXISTS vector');
  await db.query('ALTER TABLE memory_chunks ADD COLUMN IF NOT EXISTS embedding vector');
}

/** An HNSW index (cosine) over the chunks of one dimension count; built over the rows present. */
export async function ensureHnswIndex(db: Pick<Database, 'prisma'>, dimensions: number): Promise<void> {
  const d = Math.trunc(dimensions);
  // Raw DDL: an expression index per dimension count (an HNSW index needs a fixed one). The
  // build gets more memory than the embedded database's small default (the graph in memory
  // builds many times faster), for this transaction only.
  await db.prisma.$transaction(
    async (tx) => {
      await tx.$executeRawUnsafe("SET LOCAL maintenance_work_mem = '512MB'");
      await tx.$executeRawUnsafe(`CREATE INDEX IF NOT EXISTS memory_chunks_embedding_hnsw_${d} ON memory_chunks USING hnsw ((embedding::vector(${d})) vector_cosine_ops) WHERE dimensions = ${d}`);
    },
    { timeout: 3_600_000, maxWait: 60_000 },
  );
}

/** Chunks of the workspace (or of these memories) whose `embedding` is not filled yet. */
export function chunksWithoutEmbedding(db: Pick<Database, 'query'>, scope: { workspaceId: string } | { memoryIds: string[] }): Promise<{ id: string; vector: Uint8Array }[]> {
  // Plain pool: the pgvector backend catching up after writes (bench `vector-index`).
  return 'workspaceId' in scope
    ? db.query('SELECT id, vector FROM memory_chunks WHERE workspace_id = $1 AND embedding IS NULL', [scope.workspaceId])
    : db.query('SELECT id, vector FROM memory_chunks WHERE memory_id = ANY($1::varchar[]) AND embedding IS NULL', [scope.memoryIds]);
}

/** Fills `embedding` of these chunks (vectors in pgvector's text form, '[x,y,…]'). */
export async function storeEmbeddings(db: Pick<Database, 'query'>, rows: { id: string; embedding: string }[]): Promise<void> {
  if (rows.length === 0) return;
  // Raw: the column is unknown to Prisma (module comment); one statement per batch.
  await db.query('UPDATE memory_chunks c SET embedding = x.e::vector FROM unnest($1::uuid[], $2::text[]) AS x(id, e) WHERE c.id = x.id', [rows.map((r) => r.id), rows.map((r) => r.embedding)]);
}

export interface NearestQuery {
  workspaceIds: string[];
  model: string;
  dimensions: number;
  /** The query in pgvector's text form. */
  embedding: string;
  /** Chunks to return (a memory may have several). */
  limit: number;
  /** Only chunks of these memories (tag filters). */
  allowed?: string[];
  /** HNSW candidate list size (hnsw.ef_search): recall against speed. */
  efSearch: number;
}

/** The nearest chunks by cosine distance, through the HNSW index. */
export async function nearestChunks(db: Db, q: NearestQuery): Promise<{ memoryId: string; distance: number }[]> {
  const d = Math.trunc(q.dimensions);
  const filter = q.allowed ? 'AND memory_id = ANY($5::varchar[])' : '';
  // Raw: pgvector's operator and the index expression are outside Prisma's query language. The
  // settings are per transaction; the iterative scan keeps going when the workspace and tag
  // filters drop candidates (pgvector ≥ 0.8).
  return db.prisma.$transaction(async (tx) => {
    await tx.$executeRawUnsafe(`SET LOCAL hnsw.ef_search = ${Math.trunc(q.efSearch)}`);
    await tx.$executeRawUnsafe("SET LOCAL hnsw.iterative_scan = 'relaxed_order'");
    const rows = await tx.$queryRawUnsafe<{ memoryId: string; distance: number }[]>(
      `SELECT memory_id AS "memoryId", (embedding::vector(${d})) <=> $1::vector(${d}) AS distance FROM memory_chunks
        WHERE workspace_id = ANY($2::varchar[]) AND model = $3 AND dimensions = ${d} AND embedding IS NOT NULL ${filter}
        ORDER BY (embedding::vector(${d})) <=> $1::vector(${d}) LIMIT $4`,
      q.embedding, q.workspaceIds, q.model, q.limit, ...(q.allowed ? [q.allowed] : []),
    );
    // relaxed_order may return slightly out of order.
    return rows.map((r) => ({ memoryId: r.memoryId, distance: Number(r.distance) })).sort((a, b) => a.distance - b.distance);
  });
}
