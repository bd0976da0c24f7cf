import type { Prisma } from '../generated/prisma/client.js';
import { newId } from '../lib/ids.js';

export type ActivityType = 'memory_created' | 'conversation_created' | 'message_sent' | 'team_member_added' | 'model_used';

type Tx = Pick<Prisma.TransactionClient, 'activity'>;

/** Appends one activity row (§5.3 type strings; metadata keys are camelCase). */
export function logActivity(tx: Tx, workspaceId: string, type: ActivityType, description: string, metadata: Record<string, unknown> = {}) {
  return tx.activity.create({
    data: { id: newId('activity'), workspaceId, type, description, metadata: metadata as Prisma.InputJsonValue },
  });
}

/** The newest activities of a workspace, newest first. */
export function recentActivities(
  prisma: Pick<Prisma.TransactionClient, 'activity'>,
  workspaceId: string,
  page: { limit: number; offset?: number },
) {
  return prisma.activity.findMany({
    where: { workspaceId },
    orderBy: [{ timestamp: 'desc' }, { id: 'desc' }],
    take: page.limit,
    skip: page.offset,
  });
}

/** What a deleted account's `team_member_added` rows say instead of the person's name. */
const formerMemberDescription = (role: string) => `A former member was added as ${role}`;

/**
 * Account deletion, inside its transaction: the rows that named the person in workspaces
 * they joined lose their name and ids (their own workspaces go with them). Rows carry the
 * user id in their metadata (§5.3), so a later rename does not hide a row from this.
 */
export async function anonymiseMemberActivities(tx: Tx, userId: string): Promise<void> {
  const rows = await tx.activity.findMany({
    where: { type: 'team_member_added', metadata: { path: ['userId'], equals: userId } },
    select: { id: true, metadata: true },
  });
  for (const row of rows) {
    const metadata = (row.metadata ?? {}) as Record<string, unknown>;
    const role = typeof metadata.role === 'string' ? metadata.role : 'member';
    await tx.activity.update({
      where: { id: row.id },
      data: { description: formerMemberDescription(role), metadata: { ...metadata, userId: null, teamMemberId: null } as Prisma.InputJsonValue },
    });
  }
}
