/** Workspace stats (D2): the one formula is data/workspace-stats.ts. */
import type { Db } from '../data/sql.js';
import { statsOf, type WorkspaceStats } from '../data/workspace-stats.js';

/** Stats of one workspace (W3, W6, W7, W9, W10); a workspace gone meanwhile has none of anything. */
export async function workspaceStats(db: Db, workspaceId: string, now = new Date()): Promise<WorkspaceStats> {
  return (await statsOf(db, workspaceId, now)) ?? { totalMemories: 0, totalEmbeddings: 0, totalConversations: 0, systemLoad: 0, lastActivity: now };
}
