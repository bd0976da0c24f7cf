/**
 * System load snapshots: every statement on `system_load_snapshots`, one row per workspace
 * and 5-minute bucket (the neural-load series of D3).
 */
import { Prisma, type SystemLoadSnapshot } from '../generated/prisma/client.js';
import { newId } from '../lib/ids.js';
import type { Db } from './sql.js';

export type LoadSnapshot = Pick<SystemLoadSnapshot, 'timestamp' | 'value'>;

/** The workspace's snapshots taken at or after `since`, oldest first. */
export function loadSnapshotsSince(db: Db, workspaceId: string, since: Date): Promise<LoadSnapshot[]> {
  return db.systemLoadSnapshot.findMany({ where: { workspaceId, timestamp: { gte: since } }, select: { timestamp: true, value: true }, orderBy: { timestamp: 'asc' } });
}

/** Stores the load of the workspace's bucket; a repeat within the bucket refreshes the same row. */
export async function storeLoadSnapshot(db: Db, s: Pick<SystemLoadSnapshot, 'workspaceId' | 'bucket' | 'value' | 'timestamp'>): Promise<void> {
  // Raw: `ON CONFLICT … DO UPDATE`, one atomic statement, so concurrent calls in one bucket never collide.
  await db.$executeRaw(Prisma.sql`
    INSERT INTO "system_load_snapshots" ("id", "workspace_id", "bucket", "value", "timestamp")
    VALUES (${newId('load')}, ${s.workspaceId}, ${s.bucket}, ${s.value}, ${s.timestamp})
    ON CONFLICT ("workspace_id", "bucket") DO UPDATE SET "value" = EXCLUDED."value", "timestamp" = EXCLUDED."timestamp"`);
}

/** Deletes the workspace's snapshots taken before `before`. */
export async function pruneLoadSnapshots(db: Db, workspaceId: string, before: Date): Promise<void> {
  await db.systemLoadSnapshot.deleteMany({ where: { workspaceId, timestamp: { lt: before } } });
}
