/**
 * The one stats formula (D2), for any number of workspaces in ONE SQL statement:
 *   totalMemories / totalConversations   running totals (workspace_counters, trigger-maintained)
 *   totalEmbeddings                      memories whose embedding is stored (status 'ready')
 *   systemLoad                           min(100, 10 × active conversations + messages in the last 60 min)
 *   lastActivity                         newest of workspace, memory, conversation, message, activity times
 * Newest memory/conversation/activity times are index probes; recent messages use the
 * timestamp index, so the cost does not grow with the size of the workspaces.
 */
import type { PrismaClient } from '../db/client.js';
import { Prisma } from '../generated/prisma/client.js';

export interface WorkspaceStats {
  totalMemories: number;
  totalEmbeddings: number;
  totalConversations: number;
  systemLoad: number;
  lastActivity: Date;
}

type Db = Pick<PrismaClient, '$queryRaw'>;

const LOAD_WINDOW_MS = 60 * 60 * 1000;

export const systemLoad = (activeConversations: number, recentMessages: number) =>
  Math.min(100, 10 * activeConversations + recentMessages);

interface Row {
  id: string;
  memories: number;
  ready: number;
  conversations: number;
  active: number;
  recent: number;
  lastActivity: Date;
}

/** Stats of every given workspace, keyed by id (missing ids are simply absent). */
export async function statsFor(db: Db, workspaceIds: string[], now = new Date()): Promise<Map<string, WorkspaceStats>> {
  const out = new Map<string, WorkspaceStats>();
  if (workspaceIds.length === 0) return out;
  const since = new Date(now.getTime() - LOAD_WINDOW_MS);
  const rows = await db.$queryRaw<Row[]>(Prisma.sql`
    SELECT w."id",
           COALESCE(k."memories", 0)::int AS "memories",
           COALESCE(k."ready_memories", 0)::int AS "ready",
           COALESCE(k."conversations", 0)::int AS "conversations",
           COALESCE(k."active_conversations", 0)::int AS "active",
           COALESCE(r."recent", 0)::int AS "recent",
           GREATEST(
             w."updated_at",
             k."last_message_at",
             (SELECT max(m."updated_at") FROM "memories" m WHERE m."workspace_id" = w."id"),
             (SELECT max(c."updated_at") FROM "conversations" c WHERE c."workspace_id" = w."id"),
             (SELECT max(a."timestamp") FROM "activities" a WHERE a."workspace_id" = w."id")
           ) AS "lastActivity"
      FROM "workspaces" w
      LEFT JOIN "workspace_counters" k ON k."workspace_id" = w."id"
      LEFT JOIN (
        SELECT c."workspace_id", count(*) AS "recent"
          FROM "chat_messages" x JOIN "conversations" c ON c."id" = x."conversation_id"
         WHERE x."timestamp" > ${since} AND c."workspace_id" = ANY(${workspaceIds}::text[])
         GROUP BY c."workspace_id"
      ) r ON r."workspace_id" = w."id"
     WHERE w."id" = ANY(${workspaceIds}::text[])`);
  for (const row of rows) {
    out.set(row.id, {
      totalMemories: row.memories,
      totalEmbeddings: row.ready,
      totalConversations: row.conversations,
      systemLoad: systemLoad(row.active, row.recent),
      lastActivity: new Date(row.lastActivity),
    });
  }
  return out;
}

/** Stats of one workspace (W6, W7, W9, W10). */
export async function workspaceStats(db: Db, workspaceId: string, now = new Date()): Promise<WorkspaceStats> {
  const stats = (await statsFor(db, [workspaceId], now)).get(workspaceId);
  return stats ?? { totalMemories: 0, totalEmbeddings: 0, totalConversations: 0, systemLoad: 0, lastActivity: now };
}
