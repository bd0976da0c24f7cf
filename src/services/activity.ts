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
