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
import { decodeCopyBinary, encodeCopyBinary, type CopyField } from '../db/copy-binary.js';

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

/**
 * The HNSW graph's shape: m links per node (2m on the base layer) and the candidate list of the
 * build. pgvector's defaults; bench `vector-index` measures recall@10 ≥ 0.98 with them at 10^5
 * clustered chunks once the search's candidate list (hnsw.ef_search) is large enough.
 */
export const HNSW_M = 16;
export const HNSW_EF_CONSTRUCTION = 64;

const hnswName = (d: number) => `memory_chunks_embedding_hnsw_${Math.trunc(d)}`;

/** Whether the HNSW index of this dimension count exists (built by this or another instance). */
export async function hnswIndexExists(db: Pick<Database, 'query'>, dimensions: number): Promise<boolean> {
  // Plain pool: a catalog probe once per process and dimension count.
  const rows = await db.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [hnswName(dimensions)]);
  return rows[0]!.present;
}

/**
 * An HNSW index (cosine) over the chunks of one dimension count; built over the rows present.
 * Build it after filling the embeddings in bulk: one build over the filled rows is many times
 * faster than inserting each row into an existing graph.
 */
export async function ensureHnswIndex(db: Pick<Database, 'prisma' | 'kind' | 'query'>, dimensions: number): Promise<void> {
  const d = Math.trunc(dimensions);
  // PGlite: the bulk fill's dirty pages and WAL are written out first. Built right after a fill
  // of 10^5 chunks in the same session, the graph never finished (PGlite spun in
  // LWLockAcquire for over 4 minutes); after a checkpoint it took 68 s (bench `vector-index`).
  if (db.kind === 'pglite') await db.query('CHECKPOINT');
  // Raw DDL: an expression index per dimension count (an HNSW index needs a fixed one). The
  // build gets more memory than the embedded database's small default (the graph of 10^5
  // 384-dimension chunks, about 200 MB, is built in memory instead of on pages), for this
  // transaction only.
  await db.prisma.$transaction(
    async (tx) => {
      await tx.$executeRawUnsafe("SET LOCAL maintenance_work_mem = '512MB'");
      await tx.$executeRawUnsafe(
        `CREATE INDEX IF NOT EXISTS ${hnswName(d)} ON memory_chunks USING hnsw ((embedding::vector(${d})) vector_cosine_ops) WITH (m = ${HNSW_M}, ef_construction = ${HNSW_EF_CONSTRUCTION}) WHERE dimensions = ${d}`,
      );
    },
    { timeout: 3_600_000, maxWait: 60_000 },
  );
}

/** Up to `limit` chunks of this dimension count without `embedding`, in id order after `after` (the bulk fill's pages). */
export function chunksWithoutEmbeddingPage(db: Pick<Database, 'query'>, dimensions: number, after: string | null, limit: number): Promise<{ id: string; vector: Uint8Array }[]> {
  // Plain pool: keyset pages of the first fill, before the HNSW index is built.
  return db.query(
    'SELECT id::text AS id, vector FROM memory_chunks WHERE dimensions = $1 AND embedding IS NULL AND ($2::uuid IS NULL OR id > $2::uuid) ORDER BY id LIMIT $3',
    [Math.trunc(dimensions), after, limit],
  );
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const uuidText = (b: Uint8Array) => hex(b).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');

/**
 * The first fill on PGlite, in binary both ways: pages of `batch` chunks of this dimension
 * count without `embedding` are read by COPY TO, their little-endian float bytes turned into
 * pgvector's binary form (int16 dimensions, int16 0, big-endian float4s) in JavaScript, copied
 * into a temporary table and joined into memory_chunks. No text form: PGlite parsed the text
 * of 5,000 vectors in seconds. Returns the number of chunks filled.
 */
export async function fillEmbeddingsBinary(db: Pick<Database, 'query' | 'copyBinary' | 'copyIn'>, dimensions: number, batch: number): Promise<number> {
  if (!db.copyIn) throw new Error('binary fill needs COPY FROM (PGlite)');
  const d = Math.trunc(dimensions);
  // Raw: the column is unknown to Prisma (module comment); PGlite is one session, so the
  // temporary table is this process's own.
  await db.query('CREATE TEMPORARY TABLE IF NOT EXISTS chunk_embedding_fill (id uuid PRIMARY KEY, embedding vector)');
  let after: string | null = null;
  let filled = 0;
  for (;;) {
    const rows: CopyField[][] = [];
    let last: Uint8Array | null = null;
    const select = `SELECT id, vector FROM memory_chunks WHERE dimensions = ${d} AND embedding IS NULL${after ? ` AND id > '${after}'` : ''} ORDER BY id LIMIT ${Math.trunc(batch)}`;
    await decodeCopyBinary(
      (onData) => db.copyBinary(select, onData),
      ([id, vector]) => {
        const n = Math.floor(vector!.length / 4);
        const out = new Uint8Array(4 + n * 4);
        const view = new DataView(out.buffer);
        const src = new DataView(vector!.buffer, vector!.byteOffset, vector!.byteLength);
        view.setInt16(0, n);
        for (let i = 0; i < n; i++) view.setFloat32(4 + i * 4, src.getFloat32(i * 4, true));
        // Copies: the fields are valid only during the call.
        last = id!.slice();
        rows.push([last, out]);
      },
    );
    if (rows.length === 0 || !last) return filled;
    await db.query('TRUNCATE chunk_embedding_fill');
    await db.copyIn('chunk_embedding_fill', ['id', 'embedding'], encodeCopyBinary(rows));
    await db.query('UPDATE memory_chunks c SET embedding = f.embedding FROM chunk_embedding_fill f WHERE c.id = f.id');
    filled += rows.length;
    after = uuidText(last);
  }
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
  /**
   * Rank every chunk of the allowed memories exactly, not through the graph: for a filter
   * selective enough that its rows are cheaper to score than to find by walking the graph.
   */
  exact?: boolean;
  /** HNSW candidate list size (hnsw.ef_search): recall against speed. */
  efSearch: number;
}

/** The nearest chunks by cosine distance, through the HNSW index (or exactly: NearestQuery.exact). */
export async function nearestChunks(db: Db, q: NearestQuery): Promise<{ memoryId: string; distance: number }[]> {
  const d = Math.trunc(q.dimensions);
  const filter = q.allowed ? 'AND memory_id = ANY($5::varchar[])' : '';
  // An order by an expression the index does not hold (distance + 0) keeps the planner off the
  // graph: the allowed memories' rows are found by their own index and every one is ranked.
  const order = q.exact && q.allowed ? `((embedding::vector(${d})) <=> $1::vector(${d})) + 0` : `(embedding::vector(${d})) <=> $1::vector(${d})`;
  // Raw: pgvector's operator and the index expression are outside Prisma's query language. The
  // settings are per transaction; the iterative scan keeps going when the workspace and tag
  // filters drop candidates (pgvector ≥ 0.8).
  return db.prisma.$transaction(async (tx) => {
    await tx.$executeRawUnsafe(`SET LOCAL hnsw.ef_search = ${Math.trunc(q.efSearch)}`);
    await tx.$executeRawUnsafe("SET LOCAL hnsw.iterative_scan = 'relaxed_order'");
    const rows = await tx.$queryRawUnsafe<{ memoryId: string; distance: number }[]>(
      `SELECT memory_id AS "memoryId", (embedding::vector(${d})) <=> $1::vector(${d}) AS distance FROM memory_chunks
        WHERE workspace_id = ANY($2::varchar[]) AND model = $3 AND dimensions = ${d} AND embedding IS NOT NULL ${filter}
        ORDER BY ${order} LIMIT $4`,
      q.embedding, q.workspaceIds, q.model, q.limit, ...(q.allowed ? [q.allowed] : []),
    );
    // relaxed_order may return slightly out of order.
    return rows.map((r) => ({ memoryId: r.memoryId, distance: Number(r.distance) })).sort((a, b) => a.distance - b.distance);
  });
}
