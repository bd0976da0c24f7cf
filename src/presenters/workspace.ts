import type { Activity } from '../generated/prisma/client.js';
import type { WorkspaceStats } from '../data/workspace-stats.js';
import type { WorkspaceWithMembers } from '../data/workspaces.js';
import { presentActivity } from './activity.js';
import { presentTeamMember } from './team-member.js';
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
export function presentWorkspace(w: WorkspaceWithMembers, stats: WorkspaceStats): Presented<typeof Workspace> {
  return {
    id: w.id,
    name: w.name,
    description: w.description,
    ownerId: w.ownerId,
    members: w.members.map(presentTeamMember),
    stats: presentStats(stats),
    settings: {
      systemPrompt: w.systemPrompt,
      defaultModelId: w.defaultModelId,
      autoRetrieve: w.autoRetrieve,
      autoExtract: w.autoExtract,
      retrievalTopK: w.retrievalTopK,
    },
    createdAt: w.createdAt.toISOString(),
    updatedAt: w.updatedAt.toISOString(),
  };
}

/** W7: stats, the neural-load series (its points are in wire form already) and the newest activities. */
export function presentDashboard(d: { stats: WorkspaceStats; neuralLoad: { timestamp: string; value: number }[]; activities: Activity[] }) {
  return { stats: presentStats(d.stats), neuralLoad: d.neuralLoad, recentActivity: d.activities.map(presentActivity) };
}
