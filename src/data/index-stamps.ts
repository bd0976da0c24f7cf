/**
 * Workspace index stamps: every statement on `workspace_index_stamps` and its change log
 * `memory_chunk_changes`. A workspace's stamp is bumped in the same transaction as every
 * change to its chunk set (by a trigger on memory_chunks, which also logs the memories
 * changed), so each server instance can tell cheaply whether the vector index it holds for
 * that workspace is stale, and catch up on just the changed memories.
 */
import type { Database } from '../db/client.js';
import type { WorkspaceIndexStamp } from '../generated/prisma/client.js';
import type { Db } from './sql.js';

export type IndexStamp = Pick<WorkspaceIndexStamp, 'workspaceId' | 'version' | 'chunks'>;

/** Marks the workspace's chunk set as changed; run it in the transaction that changes it. */
export async function bumpIndexStamp(db: Db, workspaceId: string): Promise<void> {
  // Raw: an `ON CONFLICT … DO UPDATE` counter, one atomic statement (Prisma's upsert is one only when it decides so).
  await db.$executeRaw`INSERT INTO workspace_index_stamps (workspace_id, version, updated_at) VALUES (${workspaceId}, 1, now())
    ON CONFLICT (workspace_id) DO UPDATE SET version = workspace_index_stamps.version + 1, updated_at = now()`;
}

/** The stamps of those of these workspaces that have one, with their chunk counts (all models). */
export async function indexStamps(db: Pick<Database, 'query'>, workspaceIds: string[]): Promise<IndexStamp[]> {
  // Plain pool: read by every search (bench `memories`). As text: the drivers disagree on int8.
  const rows = await db.query<{ workspaceId: string; version: string; chunks: number }>(
    'SELECT workspace_id AS "workspaceId", version::text AS version, chunks FROM workspace_index_stamps WHERE workspace_id = ANY($1::varchar[])',
    [workspaceIds],
  );
  return rows.map((r) => ({ workspaceId: r.workspaceId, version: BigInt(r.version), chunks: r.chunks }));
}

/** The memories of the workspace whose chunks changed after stamp `version`, and the latest version seen. */
export async function chunkChangesSince(db: Pick<Database, 'query'>, workspaceId: string, version: bigint): Promise<{ memoryIds: string[]; version: bigint }> {
  // Plain pool: read on the search path after every write (bench `search under writes`). Versions as text, as above.
  const rows = await db.query<{ memoryId: string; version: string }>(
    'SELECT memory_id AS "memoryId", version::text AS version FROM memory_chunk_changes WHERE workspace_id = $1 AND version > $2::bigint',
    [workspaceId, version.toString()],
  );
  let latest = version;
  for (const r of rows) if (BigInt(r.version) > latest) latest = BigInt(r.version);
  return { memoryIds: rows.map((r) => r.memoryId), version: latest };
}
