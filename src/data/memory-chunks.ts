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
  await decodeCopyBinaryTuples((onData) => db.copyBinary(select, onData), (buffer, start, length, count) => {
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

/** What changed in a workspace after a stamp version, with the changed memories' chunk vectors. */
export interface ChunkChanges {
  /** The changed memories (their chunks replace the cached ones; none left: removed); null when more than the limit. */
  memoryIds: string[] | null;
  chunks: ChunkVectorView[];
  /** The latest change version seen (≥ the version asked from). */
  version: bigint;
}

/**
 * The memories of the workspace whose chunks changed after stamp `version` and their chunk
 * vectors by `model` at `dimensions`, in one statement (so in one snapshot): a loaded index
 * catching up after a write. More than `limit` changed memories: memoryIds null (reload).
 */
export async function chunkChangesWithVectors(db: Pick<Database, 'query'>, workspaceId: string, version: bigint, model: string, dimensions: number, limit: number): Promise<ChunkChanges> {
  // Plain pool, prepared: on the search path after every write (bench `search under writes`); one
  // round trip instead of the log then the chunks. Versions as text: the drivers disagree on int8.
  const rows = await db.query<{ memoryId: string; version: string; vector: Uint8Array | null }>(
    `WITH changed AS (SELECT memory_id, version FROM memory_chunk_changes WHERE workspace_id = $1 AND version > $2::bigint LIMIT $5::int + 1)
     SELECT ch.memory_id AS "memoryId", ch.version::text AS version, k.vector FROM changed ch
       LEFT JOIN memory_chunks k ON k.memory_id = ch.memory_id AND k.model = $3 AND k.dimensions = $4::int`,
    [workspaceId, version.toString(), model, dimensions, limit],
    'chunk-changes-with-vectors',
  );
  let latest = version;
  const memoryIds = new Set<string>();
  const chunks: ChunkVectorView[] = [];
  for (const r of rows) {
    const v = BigInt(r.version);
    if (v > latest) latest = v;
    memoryIds.add(r.memoryId);
    if (r.vector) chunks.push({ memoryId: r.memoryId, vector: r.vector });
  }
  return { memoryIds: memoryIds.size > limit ? null : [...memoryIds], chunks, version: latest };
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
