/**
 * Memory versions: every statement on the `memory_versions` table — the history's subject
 * loader, the versions each memory change records, the history list and the sweeps of
 * histories whose memory is gone.
 *
 * A history has no foreign key to its memory: it outlives a deletion by consolidation (the
 * last version then holds the deleted state, restorable), and is removed with its memory by
 * a user's deletion and by retention.
 */
import { type MemoryVersion, Prisma } from '../generated/prisma/client.js';
import { newId } from '../lib/ids.js';
import { roleIn, type UserRef } from './membership.js';
import type { Db } from './sql.js';
import { type Owners, ownedBy } from './workspaces.js';

export type MemoryAction = 'ADD' | 'UPDATE' | 'DELETE' | 'EDIT' | 'RESTORE';

export type NewVersionRow = Pick<MemoryVersion, 'memoryId' | 'workspaceId' | 'version' | 'title' | 'content' | 'tags'> & {
  metadata: Record<string, unknown>;
  action: MemoryAction;
  provenance: Record<string, unknown>;
};

/**
 * The memory history's loader: the memory (live, or deleted with its history kept) with the
 * caller's role in its workspace, as one JSON value; `deleted` tells which. Raw: a fragment
 * that rides along with the authentication statement, and the membership rule is SQL.
 */
export const memoryHistorySubjectSql = (actorId: UserRef, memoryId: string) => Prisma.sql`
  SELECT json_build_object('id', h."id", 'workspaceId', h."workspace_id", 'deleted', h."deleted",
                           'role', ${roleIn(Prisma.sql`h."workspace_id"`, actorId)})
    FROM (SELECT m."id", m."workspace_id", false AS "deleted" FROM "memories" m WHERE m."id" = ${memoryId}
          UNION ALL
          (SELECT v."memory_id", v."workspace_id", true FROM "memory_versions" v WHERE v."memory_id" = ${memoryId} ORDER BY v."version" DESC LIMIT 1)
          ORDER BY "deleted" LIMIT 1) h`;

export function insertVersion(db: Db, row: NewVersionRow): Promise<MemoryVersion> {
  return db.memoryVersion.create({
    data: { id: newId('memver'), ...row, metadata: row.metadata as Prisma.InputJsonValue, provenance: row.provenance as Prisma.InputJsonValue },
  });
}

/** Records the first versions of a batch of memories in one statement. */
export async function insertVersions(db: Db, rows: NewVersionRow[]): Promise<void> {
  await db.memoryVersion.createMany({
    data: rows.map((row) => ({ id: newId('memver'), ...row, metadata: row.metadata as Prisma.InputJsonValue, provenance: row.provenance as Prisma.InputJsonValue })),
  });
}

/** The memory's versions, newest first. */
export function versionsOf(db: Db, memoryId: string): Promise<MemoryVersion[]> {
  return db.memoryVersion.findMany({ where: { memoryId }, orderBy: { version: 'desc' } });
}

export function findVersion(db: Db, memoryId: string, version: number): Promise<MemoryVersion | null> {
  return db.memoryVersion.findUnique({ where: { memoryId_version: { memoryId, version } } });
}

export function latestVersion(db: Db, memoryId: string): Promise<MemoryVersion | null> {
  return db.memoryVersion.findFirst({ where: { memoryId }, orderBy: { version: 'desc' } });
}

/** Removes a memory's history (its memory was deleted for good). */
export async function deleteVersionsOf(db: Db, memoryId: string): Promise<void> {
  await db.memoryVersion.deleteMany({ where: { memoryId } });
}

/**
 * Retention: removes, in the owners' workspaces, the histories whose memory is gone and whose
 * last change is older than `cutoff` — deletions by consolidation past the retention period,
 * and the histories of the memories retention itself just deleted (their last change is
 * older still). Returns how many memories' histories went.
 */
export async function deleteOrphanHistoriesBefore(db: Db, owners: Owners, cutoff: Date): Promise<number> {
  const stale = await db.memoryVersion.groupBy({
    by: ['memoryId'],
    where: { workspace: ownedBy(owners) },
    having: { createdAt: { _max: { lt: cutoff } } },
  });
  if (stale.length === 0) return 0;
  const ids = stale.map((s) => s.memoryId);
  const live = new Set((await db.memory.findMany({ where: { id: { in: ids } }, select: { id: true } })).map((m) => m.id));
  const gone = ids.filter((id) => !live.has(id));
  if (gone.length) await db.memoryVersion.deleteMany({ where: { memoryId: { in: gone } } });
  return gone.length;
}
