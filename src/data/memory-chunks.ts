/**
 * Memory chunks: every statement on `memory_chunks`, the embedded pieces of each memory with
 * their vectors (little-endian float32 bytes, see lib/vectors.ts).
 */
import type { Database } from '../db/client.js';
import type { MemoryChunk } from '../generated/prisma/client.js';
import { columns, type Db, type RowOf } from './sql.js';

/** What the vector index and the API's `embedding` field read of a chunk. */
export const chunkVectorColumns = columns('MemoryChunk', null, { memoryId: 'memory_id', vector: 'vector' });

export type ChunkVectorRow = RowOf<typeof chunkVectorColumns>;

/** A chunk as the embedding backlog stores it. */
export type NewChunk = Pick<MemoryChunk, 'memoryId' | 'workspaceId' | 'chunkIndex' | 'content' | 'vector' | 'dimensions' | 'model'>;

/** Every chunk vector of the workspace embedded by `model` at `dimensions`, in no particular order. */
export function workspaceChunkVectors(db: Pick<Database, 'query'>, workspaceId: string, model: string, dimensions: number): Promise<ChunkVectorRow[]> {
  // Plain pool: the vector index's load, on the search path (up to 10^5 rows; bench `memories`).
  // Unordered: sorting 10^5 rows by memory costs PostgreSQL more than the index grouping them.
  return db.query<ChunkVectorRow>(`SELECT ${chunkVectorColumns.sql} FROM memory_chunks WHERE workspace_id = $1 AND model = $2 AND dimensions = $3`, [
    workspaceId,
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
