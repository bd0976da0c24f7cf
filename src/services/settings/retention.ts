/**
 * Retention (D18). A finite period deletes, in the workspaces a user owns, conversations
 * (with their messages) and memories not updated for that many days; workspaces
 * themselves stay. `indefinite-*` periods never delete anything (Part A over §5.14's
 * 84-day reading of `indefinite-84`, so the default setting is never destructive).
 */
import type { AppDeps } from '../../app-deps.js';
import type { Prisma } from '../../generated/prisma/client.js';

export const RETENTION_PERIODS = ['7-days', '30-days', '90-days', 'indefinite-84', 'indefinite-forever'] as const;
export type RetentionPeriod = (typeof RETENTION_PERIODS)[number];

const DAYS: Record<string, number> = { '7-days': 7, '30-days': 30, '90-days': 90 };
const DAY_MS = 86_400_000;

/** Days of the period, or null when it never expires (indefinite or unknown). */
export const retentionDays = (period: string): number | null => DAYS[period] ?? null;

export type CleanupInfo =
  | { cleanup_date: null; days_remaining: null; hours_remaining: null; minutes_remaining: null; is_indefinite: true; retention_period: string }
  | { cleanup_date: string; days_remaining: number; hours_remaining: number; minutes_remaining: number; total_seconds_remaining: number; is_indefinite: false; retention_period: string };

/** S4 (§5.14): the next cleanup is the first multiple of N days after sign-up that lies in the future. */
export function cleanupInfo(user: { createdAt: Date; retentionPeriod: string }, now = new Date()): CleanupInfo {
  const days = retentionDays(user.retentionPeriod);
  if (days === null) {
    return { cleanup_date: null, days_remaining: null, hours_remaining: null, minutes_remaining: null, is_indefinite: true, retention_period: user.retentionPeriod };
  }
  const period = days * DAY_MS;
  const elapsed = now.getTime() - user.createdAt.getTime();
  const cycles = Math.max(1, Math.floor(elapsed / period) + 1);
  const next = new Date(user.createdAt.getTime() + cycles * period);
  const seconds = Math.max(0, Math.floor((next.getTime() - now.getTime()) / 1000));
  return {
    cleanup_date: next.toISOString(),
    days_remaining: Math.floor(seconds / 86_400),
    hours_remaining: Math.floor((seconds % 86_400) / 3600),
    minutes_remaining: Math.floor((seconds % 3600) / 60),
    total_seconds_remaining: seconds,
    is_indefinite: false,
    retention_period: user.retentionPeriod,
  };
}

export interface CleanupCounts {
  workspaces_deleted: number;
  conversations_deleted: number;
  memories_deleted: number;
  messages_deleted: number;
  cleanup_time: string;
}

type Tx = Prisma.TransactionClient;

/** Deletes the expired content of the workspaces matched by `ownedBy`, counting exactly (one transaction). */
async function deleteExpired(tx: Tx, ownedBy: Prisma.WorkspaceWhereInput, cutoff: Date) {
  const conversations = { workspace: ownedBy, updatedAt: { lt: cutoff } } satisfies Prisma.ConversationWhereInput;
  const messages = await tx.chatMessage.count({ where: { conversation: conversations } });
  const deletedConversations = await tx.conversation.deleteMany({ where: conversations });
  const deletedMemories = await tx.memory.deleteMany({ where: { workspace: ownedBy, updatedAt: { lt: cutoff } } });
  return { conversations: deletedConversations.count, memories: deletedMemories.count, messages };
}

/** S5: the caller's own cleanup, under their retention period. */
export async function cleanupForUser(deps: AppDeps, user: { id: string; retentionPeriod: string }, now = new Date()): Promise<CleanupCounts> {
  const days = retentionDays(user.retentionPeriod);
  const counts = days === null
    ? { conversations: 0, memories: 0, messages: 0 }
    : await deps.prisma.$transaction((tx) => deleteExpired(tx, { ownerId: user.id }, new Date(now.getTime() - days * DAY_MS)));
  return {
    workspaces_deleted: 0,
    conversations_deleted: counts.conversations,
    memories_deleted: counts.memories,
    messages_deleted: counts.messages,
    cleanup_time: now.toISOString(),
  };
}

/** An arbitrary constant naming the retention sweep's advisory lock. */
const SWEEP_LOCK = 0x43_68_69_6d_52_65_74n; // "ChimRet"

/**
 * The scheduled sweep: every finite period in one transaction guarded by a transaction-level
 * advisory lock, so with several instances on one PostgreSQL only one sweeps at a time and
 * the others skip this round. (PGlite is single-process; the lock is harmless there.)
 */
export async function sweepExpiredContent(deps: AppDeps, now = new Date()): Promise<{ swept: boolean; conversations: number; memories: number; messages: number }> {
  return deps.prisma.$transaction(
    async (tx) => {
      const rows = await tx.$queryRaw<{ locked: boolean }[]>`SELECT pg_try_advisory_xact_lock(${SWEEP_LOCK}::bigint) AS locked`;
      const locked = rows[0]?.locked === true;
      const total = { swept: locked, conversations: 0, memories: 0, messages: 0 };
      if (!locked) return total;
      for (const [period, days] of Object.entries(DAYS)) {
        const counts = await deleteExpired(tx, { owner: { retentionPeriod: period } }, new Date(now.getTime() - days * DAY_MS));
        total.conversations += counts.conversations;
        total.memories += counts.memories;
        total.messages += counts.messages;
      }
      return total;
    },
    { timeout: 120_000 },
  );
}
