/**
 * Memory history: every change of a memory is a version with its provenance — the
 * conversation, message ids and model of an extraction, or the user who edited. The history
 * lists them newest first, and any version can be restored: a live memory takes that
 * version's text back (a RESTORE version), a memory deleted by consolidation is written
 * back under its id.
 */
import { findMemory, reinsertMemory } from '../../data/memories.js';
import { findVersion, latestVersion, versionsOf } from '../../data/memory-versions.js';
import type { Db } from '../../data/sql.js';
import type { PrismaClient } from '../../db/client.js';
import { notFound } from '../../lib/errors.js';
import { snippetOf } from '../../lib/snippet.js';
import { type Backlog, recordVersion, reviseMemoryTx } from './service.js';

/** Where a version comes from. */
export type Provenance =
  | { source: 'conversation'; conversationId: string; messageIds: string[]; model: string }
  | { source: 'user'; userId: string | null };

export const VERSION_NOT_FOUND = 'Version not found';

/** The memory's versions, newest first; `deleted` when the memory itself is gone (restorable). */
export async function memoryHistory(db: Db, memoryId: string) {
  const [versions, live] = await Promise.all([versionsOf(db, memoryId), findMemory(db, memoryId)]);
  return { memoryId, deleted: live === null, versions };
}

/** Restores version `version` of the memory as a new RESTORE version, by `userId`; the memory as it now stands. */
export async function restoreVersion(db: PrismaClient, backlog: Backlog, memoryId: string, version: number, userId: string) {
  const provenance: Provenance = { source: 'user', userId };
  const memory = await db.$transaction(async (tx) => {
    const target = await findVersion(tx, memoryId, version);
    if (!target) throw notFound(VERSION_NOT_FOUND);
    const restored = { title: target.title, content: target.content, tags: target.tags, metadata: target.metadata as Record<string, unknown> };
    const current = await findMemory(tx, memoryId);
    if (current) return (await reviseMemoryTx(tx, current, restored, 'RESTORE', provenance)).memory;
    // Deleted: written back under its id, after the last version of its history.
    const last = (await latestVersion(tx, memoryId))!;
    const row = await reinsertMemory(tx, memoryId, last.version + 1, {
      workspaceId: target.workspaceId, authorId: userId, ...restored, snippet: snippetOf(restored.content),
    });
    await recordVersion(tx, row, 'RESTORE', provenance);
    return row;
  });
  backlog.nudge();
  return memory;
}
