/** A workspace's activity feed: what is logged, and how a deleted account's rows stop naming it. */
import * as activities from '../data/activities.js';
import type { Db } from '../data/sql.js';
import type { Prisma } from '../generated/prisma/client.js';

export type ActivityType = 'memory_created' | 'conversation_created' | 'message_sent' | 'team_member_added' | 'model_used';

/** Appends one activity row (§5.3 type strings; metadata keys are camelCase). */
export function logActivity(db: Db, workspaceId: string, type: ActivityType, description: string, metadata: Record<string, unknown> = {}) {
  return activities.insertActivity(db, { workspaceId, type, description, metadata: metadata as Prisma.InputJsonValue });
}

/** The newest activities of a workspace, newest first (W7, W8). */
export const recentActivities = activities.recentActivities;

/** What a deleted account's `team_member_added` rows say instead of the person's name. */
const formerMemberDescription = (role: string) => `A former member was added as ${role}`;

/**
 * Account deletion, inside its transaction: the rows that named the person in workspaces
 * they joined lose their name and ids (their own workspaces go with them). Rows carry the
 * user id in their metadata (§5.3), so a later rename does not hide a row from this.
 */
export async function anonymiseMemberActivities(tx: Db, userId: string): Promise<void> {
  const rows = await activities.activitiesNaming(tx, 'team_member_added', userId);
  for (const row of rows) {
    const metadata = (row.metadata ?? {}) as Record<string, unknown>;
    const role = typeof metadata.role === 'string' ? metadata.role : 'member';
    await activities.rewriteActivity(tx, row.id, {
      description: formerMemberDescription(role),
      metadata: { ...metadata, userId: null, teamMemberId: null } as Prisma.InputJsonValue,
    });
  }
}
