/**
 * Workspaces: list (with stats for the whole list in one statement), create, read,
 * update, delete (one cascading transaction).
 */
import type { PrismaClient } from '../db/client.js';
import type { Prisma } from '../generated/prisma/client.js';
import { newId } from '../lib/ids.js';
import { teamMemberInclude } from '../presenters/team-member.js';
import { presentWorkspace } from '../presenters/workspace.js';
import { logActivity } from './activity.js';
import { statsFor, workspaceStats } from './workspace-stats.js';

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

const visibleTo = (userId: string): Prisma.WorkspaceWhereInput => ({
  OR: [{ ownerId: userId }, { members: { some: { userId } } }],
});

/** W1: the caller's workspaces, newest update first; the full list unless paged (D21). */
export async function listWorkspaces(prisma: PrismaClient, userId: string, page: { limit?: number; offset?: number }) {
  const paged = page.limit !== undefined || page.offset !== undefined;
  const [workspaces, total] = await Promise.all([
    prisma.workspace.findMany({
      where: visibleTo(userId),
      include: workspaceInclude,
      orderBy: [{ updatedAt: 'desc' }, { id: 'asc' }],
      skip: page.offset,
      take: page.limit,
    }),
    paged ? prisma.workspace.count({ where: visibleTo(userId) }) : null,
  ]);
  const stats = await statsFor(prisma, workspaces.map((w) => w.id));
  return {
    workspaces: workspaces.map((w) => presentWorkspace(w, stats.get(w.id)!)),
    total: total ?? workspaces.length,
  };
}

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
