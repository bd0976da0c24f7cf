/**
 * Workspaces: create, read, update, delete (one cascading transaction). The list (W1) is
 * served by workspace-list.ts.
 */
import type { PrismaClient } from '../db/client.js';
import { Prisma } from '../generated/prisma/client.js';
import { newId } from '../lib/ids.js';
import { teamMemberInclude } from '../presenters/team-member.js';
import { presentWorkspace } from '../presenters/workspace.js';
import { logActivity } from './activity.js';
import { workspaceStats } from './workspace-stats.js';

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

/** Members in insertion order (the order the contract's team list uses). */
const workspaceInclude = {
  members: { include: teamMemberInclude, orderBy: [{ joinedAt: 'asc' }, { id: 'asc' }] },
} as const satisfies Prisma.WorkspaceInclude;

/** One workspace presented with members and stats (W2, W3, W4). */
export async function loadWorkspace(prisma: PrismaClient, workspaceId: string) {
  const [workspace, stats] = await Promise.all([
    prisma.workspace.findUniqueOrThrow({ where: { id: workspaceId }, include: workspaceInclude }),
    workspaceStats(prisma, workspaceId),
  ]);
  return presentWorkspace(workspace, stats);
}

/** W2 */
export async function createWorkspace(prisma: PrismaClient, owner: { id: string; name: string }, input: { name: string; description?: string }) {
  const workspace = await prisma.$transaction((tx) => createWorkspaceTx(tx, owner, input));
  return loadWorkspace(prisma, workspace.id);
}

/** W4: only the keys present change; updatedAt is bumped either way. */
export async function updateWorkspace(prisma: PrismaClient, workspaceId: string, input: { name?: string; description?: string | null }) {
  await prisma.workspace.update({
    where: { id: workspaceId },
    data: { name: input.name, description: input.description, updatedAt: new Date() },
  });
  return loadWorkspace(prisma, workspaceId);
}

/**
 * W5: one DELETE; the foreign keys cascade to conversations, messages, injection links,
 * memories, chunks, members, invitations, snapshots, activities and counters, atomically.
 */
export async function deleteWorkspace(prisma: PrismaClient, workspaceId: string) {
  await prisma.workspace.delete({ where: { id: workspaceId } });
}
