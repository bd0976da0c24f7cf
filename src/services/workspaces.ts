import type { Prisma } from '../generated/prisma/client.js';
import { newId } from '../lib/ids.js';
import { logActivity } from './activity.js';

/**
 * Creates a workspace owned by `owner`, with the owner's admin membership and the
 * `team_member_added` activity, inside the caller's transaction.
 */
export async function createWorkspaceTx(
  tx: Prisma.TransactionClient,
  owner: { id: string; name: string },
  input: { name: string; description?: string | null },
) {
  const workspace = await tx.workspace.create({
    data: { id: newId('workspace'), name: input.name, description: input.description ?? '', ownerId: owner.id },
  });
  const member = await tx.teamMember.create({
    data: { id: newId('tm'), userId: owner.id, workspaceId: workspace.id, role: 'admin', status: 'online' },
  });
  await logActivity(tx, workspace.id, 'team_member_added', `Team member ${owner.name} added as admin`, {
    teamMemberId: member.id,
    userId: owner.id,
    role: 'admin',
  });
  return workspace;
}
