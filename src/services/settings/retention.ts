/**
 * Retention (D18). A finite period deletes, in the workspaces a user owns, conversations
 * (with their messages) and memories not updated for that many days; workspaces
 * themselves stay, and so do the histories of memories deleted by consolidation until their
 * deletion is older than the period. `indefinite-*` periods never delete anything (Part A over §5.14's
 * 84-day reading of `indefinite-84`, so the default setting is never destructive).
 */
import { countMessagesOfConversationsBefore } from '../../data/chat-messages.js';
import { deleteConversationsBefore } from '../../data/conversations.js';
import { bumpIndexStamp } from '../../data/index-stamps.js';
import { tryRetentionSweepLock } from '../../data/locks.js';
import { deleteMemoriesBefore } from '../../data/memories.js';
import { deleteOrphanHistoriesBefore } from '../../data/memory-versions.js';
import type { Db } from '../../data/sql.js';
import type { Owners } from '../../data/workspaces.js';
import type { PrismaClient } from '../../db/client.js';

export const RETENTION_PERIODS = ['7-days', '30-days', '90-days', 'indefinite-84', 'indefinite-forever'] as const;

const DAYS: Record<string, number> = { '7-days': 7, '30-days': 30, '90-days': 90 };
const DAY_MS = 86_400_000;

/** Days of the period, or null when it never expires (indefinite or unknown). */
const retentionDays = (period: string): number | null => DAYS[period] ?? null;

/** When the next cleanup runs, and how many whole seconds remain until then. */
export interface NextCleanup {
  at: Date;
  secondsRemaining: number;
}

/** S4 (§5.14): the next cleanup is the first multiple of N days after sign-up that lies in the future; null when the period never expires. */
export function nextCleanup(user: { createdAt: Date; retentionPeriod: string }, now = new Date()): NextCleanup | null {
  const days = retentionDays(user.retentionPeriod);
  if (days === null) return null;
  const period = days * DAY_MS;
  const elapsed = now.getTime() - user.createdAt.getTime();
  const cycles = Math.max(1, Math.floor(elapsed / period) + 1);
  const at = new Date(user.createdAt.getTime() + cycles * period);
  return { at, secondsRemaining: Math.max(0, Math.floor((at.getTime() - now.getTime()) / 1000)) };
}

/** What a cleanup deleted. */
export interface CleanupCounts {
  conversations: number;
  memories: number;
  messages: number;
}

/** Deletes the expired content of the owners' workspaces, counting exactly (inside the caller's transaction). */
async function deleteExpired(tx: Db, owners: Owners, cutoff: Date): Promise<CleanupCounts> {
  const messages = await countMessagesOfConversationsBefore(tx, owners, cutoff);
  const conversations = await deleteConversationsBefore(tx, owners, cutoff);
  const memories = await deleteMemoriesBefore(tx, owners, cutoff);
  // Deletions by consolidation are swept here too: their kept history goes once it expires.
  await deleteOrphanHistoriesBefore(tx, owners, cutoff);
  // Loaded vector indexes drop the deleted memories' chunks when their workspace's stamp moves.
  for (const workspaceId of memories.workspaceIds) await bumpIndexStamp(tx, workspaceId);
  return { conversations, memories: memories.count, messages };
}

/** S5: the caller's own cleanup, under their retention period, as of `now`. */
export async function cleanupForUser(db: PrismaClient, user: { id: string; retentionPeriod: string }, now = new Date()): Promise<CleanupCounts> {
  const days = retentionDays(user.retentionPeriod);
  if (days === null) return { conversations: 0, memories: 0, messages: 0 };
  return db.$transaction((tx) => deleteExpired(tx, { ownerId: user.id }, new Date(now.getTime() - days * DAY_MS)));
}

/**
 * The scheduled sweep: every finite period in one transaction guarded by a transaction-level
 * advisory lock, so with several instances on one PostgreSQL only one sweeps at a time and
 * the others skip this round.
 */
export async function sweepExpiredContent(db: PrismaClient, now = new Date()): Promise<{ swept: boolean } & CleanupCounts> {
  return db.$transaction(
    async (tx) => {
      const locked = await tryRetentionSweepLock(tx);
      const total = { swept: locked, conversations: 0, memories: 0, messages: 0 };
      if (!locked) return total;
      for (const [period, days] of Object.entries(DAYS)) {
        const counts = await deleteExpired(tx, { retentionPeriod: period }, new Date(now.getTime() - days * DAY_MS));
        total.conversations += counts.conversations;
        total.memories += counts.memories;
        total.messages += counts.messages;
      }
      return total;
    },
    { timeout: 120_000 },
  );
}
