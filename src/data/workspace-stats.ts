/**
 * The one stats formula (D2), as SQL fragments any workspace query can embed, so a whole
 * list gets its stats in the same single statement:
 *   totalMemories / totalConversations   running totals (workspace_counters, trigger-maintained)
 *   totalEmbeddings                      memories whose embedding is stored (status 'ready')
 *   systemLoad                           min(100, 10 × active conversations + messages in the last 60 min)
 *   lastActivity                         newest of workspace, memory, conversation, message, activity times
 * Newest memory/conversation/activity times are index probes and recent messages come from
 * the timestamp index, so the cost does not grow with the size of the workspaces.
 *
 * Raw SQL: the formula is fragments that the workspace list embeds in its single statement.
 */
import { type ChatMessage, Prisma, type Workspace } from '../generated/prisma/client.js';
import type { Db } from './sql.js';

export interface WorkspaceStats {
  totalMemories: number;
  totalEmbeddings: number;
  totalConversations: number;
  systemLoad: number;
  lastActivity: Date;
}

/** The raw columns the fragments add to a row. */
export interface StatsColumns {
  stat_memories: number;
  stat_ready: number;
  stat_conversations: number;
  stat_active: number;
  stat_recent: number;
  stat_last_activity: Workspace['updatedAt'];
  /** Oldest message counted in `stat_recent` (null when none): the count can only change when it leaves the window. */
  stat_recent_oldest: ChatMessage['timestamp'] | null;
}

const LOAD_WINDOW_MS = 60 * 60 * 1000;
/** systemLoad saturates at 100, so more recent messages than this never change it. */
const RECENT_MESSAGES_CAP = 100;

export const systemLoad = (activeConversations: number, recentMessages: number) =>
  Math.min(100, 10 * activeConversations + recentMessages);

/** Columns computed for the workspace aliased `w`; needs `statsJoins` in the FROM clause. */
export const statsColumns = Prisma.sql`
  COALESCE(k."memories", 0)::int AS "stat_memories",
  COALESCE(k."ready_memories", 0)::int AS "stat_ready",
  COALESCE(k."conversations", 0)::int AS "stat_conversations",
  COALESCE(k."active_conversations", 0)::int AS "stat_active",
  COALESCE(r."recent", 0)::int AS "stat_recent",
  r."oldest" AS "stat_recent_oldest",
  GREATEST(
    w."updated_at",
    k."last_message_at",
    (SELECT max(m."updated_at") FROM "memories" m WHERE m."workspace_id" = w."id"),
    (SELECT max(c."updated_at") FROM "conversations" c WHERE c."workspace_id" = w."id"),
    (SELECT max(a."timestamp") FROM "activities" a WHERE a."workspace_id" = w."id")
  ) AS "stat_last_activity"`;

/**
 * Joins for `statsColumns`. Recent messages matter only up to 100 (systemLoad saturates
 * there), so each workspace reads at most the 100 newest entries of the (workspace_id,
 * timestamp) index: the cost stays bounded however busy the workspace is. The oldest of
 * them tells when the count next changes without a write (it leaves the window then).
 */
export function statsJoins(now: Date) {
  const since = new Date(now.getTime() - LOAD_WINDOW_MS);
  return Prisma.sql`
    LEFT JOIN "workspace_counters" k ON k."workspace_id" = w."id"
    LEFT JOIN LATERAL (
      SELECT count(*) AS "recent", min(capped."timestamp") AS "oldest" FROM (
        SELECT x."timestamp" FROM "chat_messages" x
         WHERE x."workspace_id" = w."id" AND x."timestamp" > ${since}
         ORDER BY x."timestamp" DESC
         LIMIT ${RECENT_MESSAGES_CAP}
      ) capped
    ) r ON true`;
}

/**
 * Until when (epoch ms, exclusive) stats computed at `now` stay exact without any write:
 * only the recent-message count depends on the clock, and it changes when its oldest
 * counted message leaves the 60-minute window (with 100 or more, when the 100th newest does).
 */
export function statsValidUntil(row: Pick<StatsColumns, 'stat_recent_oldest'>): number {
  if (row.stat_recent_oldest === null) return Number.POSITIVE_INFINITY;
  // − 1 ms: the driver may round the stored microseconds up to the next millisecond.
  return row.stat_recent_oldest.getTime() + LOAD_WINDOW_MS - 1;
}

export function statsFromRow(row: StatsColumns): WorkspaceStats {
  return {
    totalMemories: row.stat_memories,
    totalEmbeddings: row.stat_ready,
    totalConversations: row.stat_conversations,
    systemLoad: systemLoad(row.stat_active, row.stat_recent),
    lastActivity: row.stat_last_activity,
  };
}

/** Stats of one workspace in one statement; null when there is no such workspace. Raw: the formula's fragments. */
export async function statsOf(db: Db, workspaceId: string, now: Date): Promise<WorkspaceStats | null> {
  const [row] = await db.$queryRaw<StatsColumns[]>(Prisma.sql`
    SELECT ${statsColumns} FROM "workspaces" w ${statsJoins(now)} WHERE w."id" = ${workspaceId}`);
  return row ? statsFromRow(row) : null;
}
