import type { WorkspaceStats } from '../services/workspace-stats.js';
import { presentTeamMember, type TeamMemberRow } from './team-member.js';
import type { Presented } from '../schemas/responses/common.js';
import type { Workspace, WorkspaceStats as WorkspaceStatsData } from '../schemas/responses/workspaces.js';

export function presentStats(stats: WorkspaceStats): Presented<typeof WorkspaceStatsData> {
  return {
    totalMemories: stats.totalMemories,
    totalEmbeddings: stats.totalEmbeddings,
    totalConversations: stats.totalConversations,
    systemLoad: stats.systemLoad,
    lastActivity: stats.lastActivity.toISOString(),
  };
}

/** Workspace (§2.1): members include the owner's own row; stats use the one formula (D2). */
export function presentWorkspace(
  w: { id: string; name: string; description: string | null; ownerId: string; createdAt: Date; updatedAt: Date; members: TeamMemberRow[] },
  stats: WorkspaceStats,
): Presented<typeof Workspace> {
  return {
    id: w.id,
    name: w.name,
    description: w.description,
    ownerId: w.ownerId,
    members: w.members.map(presentTeamMember),
    stats: presentStats(stats),
    createdAt: w.createdAt.toISOString(),
    updatedAt: w.updatedAt.toISOString(),
  };
}
