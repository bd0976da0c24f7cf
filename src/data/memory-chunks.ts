/**
 * Memory chunks: every statement on `memory_chunks`, the embedded pieces of each memory with
 * their vectors (little-endian float32 bytes, see lib/vectors.ts).
 */
import type { Database } from '../db/client.js';
import { decodeCopyBinary, sqlLiteral } from '../db/copy-binary.js';
import type { MemoryChunk } from '../generated/prisma/client.js';
import { columns, type Db, type RowOf } from './sql.js';

/** What the vector index and the API's `embedding` field read of a chunk. */
export const chunkVectorColumns = columns('MemoryChunk', null, { memoryId: 'memory_id', vector: 'vector' });

export type ChunkVectorRow = RowOf<typeof chunkVectorColumns>;

/** A chunk vector as the index reads it: possibly a view into a larger buffer (a COPY stream). */
export type ChunkVectorView = { memoryId: string; vector: Uint8Array };

/** A chunk as the embedding backlog stores it. */
export type NewChunk = Pick<MemoryChunk, 'memoryId' | 'workspaceId' | 'chunkIndex' | 'content' | 'vector' | 'dimensions' | 'model'>;

/**
 * Every chunk vector of the workspace embedded by `model` at `dimensions`, in no particular
 * order, streamed in: the vector index's cold load (10^5 rows in one workspace; bench `memories`,
 * `cold load 100k`). The vectors are views into the received chunks.
 */
export async function workspaceChunkVectors(db: Pick<Database, 'copyBinary'>, workspaceId: string, model: string, dimensions: number): Promise<ChunkVectorView[]> {
  // Raw: a binary COPY moves bytea several times faster than rows of hex text, and COPY takes no parameters.
  const select = `SELECT memory_id, vector FROM memory_chunks WHERE workspace_id = ${sqlLiteral(workspaceId)} AND model = ${sqlLiteral(model)} AND dimensions = ${Math.trunc(dimensions)}`;
  const rows: ChunkVectorView[] = [];
  const decoder = new TextDecoder();
  await decodeCopyBinary(db.copyBinary(select), ([memoryId, vector]) => {
    if (memoryId && vector) rows.push({ memoryId: decoder.decode(memoryId), vector });
  });
  return rows;
}

/** The chunk vectors of these memories embedded by `model` at `dimensions` (a loaded index catching up). */
export function memoriesChunkVectors(db: Pick<Database, 'query'>, memoryIds: string[], model: string, dimensions: number): Promise<ChunkVectorRow[]> {
  // Plain pool: on the search path, right after a write (bench `search under writes`).
  return db.query<ChunkVectorRow>(`SELECT ${chunkVectorColumns.sql} FROM memory_chunks WHERE memory_id = ANY($1::varchar[]) AND model = $2 AND dimensions = $3`, [
    memoryIds,
    model,
    dimensions,
  ]);
}

/** The first chunk's vector of each of these memories that has one. */
export function firstChunkVectors(db: Db, memoryIds: string[]): Promise<ChunkVectorRow[]> {
  return db.memoryChunk.findMany({ where: { memoryId: { in: memoryIds }, chunkIndex: 0 }, select: { memoryId: true, vector: true } });
}

/** Replaces every chunk of these memories with `chunks`. */
export async function replaceChunks(db: Db, memoryIds: string[], chunks: NewChunk[]): Promise<void> {
  await db.memoryChunk.deleteMany({ where: { memoryId: { in: memoryIds } } });
  await db.memoryChunk.createMany({ data: chunks });
}

export function countWorkspaceChunks(db: Db, workspaceId: string): Promise<number> {
  return db.memoryChunk.count({ where: { workspaceId } });
}
