/**
 * Memory chunks: every statement on `memory_chunks`, the embedded pieces of each memory with
 * their vectors (little-endian float32 bytes, see lib/vectors.ts).
 */
import type { Database } from '../db/client.js';
import { decodeCopyBinaryTuples, sqlLiteral } from '../db/copy-binary.js';
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
 * order, streamed into `onChunk` as it arrives: the vector index's cold load (10^5 rows in one
 * workspace; bench `vector-index`, `cold load 100k`). The vector is `source[at, at + length)`,
 * valid only during the call; no object is made per row, and a memory id is decoded once
 * for its run of consecutive chunks (the same string is handed out again).
 */
export async function streamWorkspaceChunkVectors(
  db: Pick<Database, 'copyBinary'>,
  workspaceId: string,
  model: string,
  dimensions: number,
  onChunk: (memoryId: string, source: Uint8Array, at: number, length: number) => void,
): Promise<void> {
  // Raw: a binary COPY moves bytea several times faster than rows of hex text, and COPY takes no parameters.
  const select = `SELECT memory_id, vector FROM memory_chunks WHERE workspace_id = ${sqlLiteral(workspaceId)} AND model = ${sqlLiteral(model)} AND dimensions = ${Math.trunc(dimensions)}`;
  const decoder = new TextDecoder();
  let last = new Uint8Array(64);
  let lastLength = -1;
  let lastId = '';
  await decodeCopyBinaryTuples(db.copyBinary(select), (buffer, start, length, count) => {
    if (count < 2 || length[0]! < 0 || length[1]! < 0) return;
    const idAt = start[0]!;
    const idLength = length[0]!;
    let same = idLength === lastLength;
    for (let i = 0; same && i < idLength; i++) same = buffer[idAt + i] === last[i];
    if (!same) {
      if (idLength > last.length) last = new Uint8Array(idLength);
      last.set(buffer.subarray(idAt, idAt + idLength));
      lastLength = idLength;
      lastId = decoder.decode(buffer.subarray(idAt, idAt + idLength));
    }
    onChunk(lastId, buffer, start[1]!, length[1]!);
  });
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
