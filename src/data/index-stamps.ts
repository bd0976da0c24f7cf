/**
 * Workspace index stamps: every statement on `workspace_index_stamps`. A workspace's stamp is
 * bumped in the same transaction as every change to its chunk set, so each server instance can
 * tell cheaply whether the vector index it holds for that workspace is stale.
 */
import type { Database } from '../db/client.js';
import type { WorkspaceIndexStamp } from '../generated/prisma/client.js';
import type { Db } from './sql.js';

export type IndexStamp = Pick<WorkspaceIndexStamp, 'workspaceId' | 'version'>;

/** Marks the workspace's chunk set as changed; run it in the transaction that changes it. */
export async function bumpIndexStamp(db: Db, workspaceId: string): Promise<void> {
  // Raw: an `ON CONFLICT … DO UPDATE` counter, one atomic statement (Prisma's upsert is one only when it decides so).
  await db.$executeRaw`INSERT INTO workspace_index_stamps (workspace_id, version, updated_at) VALUES (${workspaceId}, 1, now())
    ON CONFLICT (workspace_id) DO UPDATE SET version = workspace_index_stamps.version + 1, updated_at = now()`;
}

/** The stamps of those of these workspaces that have one. */
export async function indexStamps(db: Pick<Database, 'query'>, workspaceIds: string[]): Promise<IndexStamp[]> {
  // Plain pool: read by every search (bench `memories`). As text: the drivers disagree on int8.
  const rows = await db.query<{ workspaceId: string; version: string }>(
    'SELECT workspace_id AS "workspaceId", version::text AS version FROM workspace_index_stamps WHERE workspace_id = ANY($1::varchar[])',
    [workspaceIds],
  );
  return rows.map((r) => ({ workspaceId: r.workspaceId, version: BigInt(r.version) }));
}
