/**
 * Invitations seen by the invitee (D7): list pending, accept (idempotent and race-safe:
 * the pending→accepted transition is claimed by one transaction, the membership insert
 * ignores duplicates), decline (deletes the row).
 */
import type { PrismaClient } from '../db/client.js';
import { notFound } from '../http/errors.js';
import { newId } from '../lib/ids.js';
import { presentInvitation } from '../presenters/invitation.js';
import { logActivity } from './activity.js';

const NOT_FOUND = 'Invitation not found';

/** I1: the caller's pending invitations, newest first. */
export async function listInvitations(prisma: PrismaClient, userId: string, page: { limit?: number; offset?: number }) {
  const where = { inviteeId: userId, status: 'pending' };
  const paged = page.limit !== undefined || page.offset !== undefined;
  const [rows, total] = await Promise.all([
    prisma.workspaceInvitation.findMany({
      where,
      include: { workspace: { select: { name: true } }, inviter: { select: { name: true, email: true } } },
      orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      skip: page.offset,
      take: page.limit,
    }),
    paged ? prisma.workspaceInvitation.count({ where }) : null,
  ]);
  return { invitations: rows.map(presentInvitation), total: total ?? rows.length };
}

/** I2: a repeat accept answers the same as long as the membership it created exists. */
export async function acceptInvitation(prisma: PrismaClient, invitationId: string, user: { id: string; name: string }) {
  return prisma.$transaction(async (tx) => {
    const claimed = await tx.workspaceInvitation.updateMany({
      where: { id: invitationId, inviteeId: user.id, status: 'pending' },
      data: { status: 'accepted', respondedAt: new Date() },
    });
    const invitation = await tx.workspaceInvitation.findFirst({
      where: { id: invitationId, inviteeId: user.id, status: 'accepted' },
      include: { workspace: { select: { id: true, name: true } } },
    });
    if (!invitation) throw notFound(NOT_FOUND);
    const key = { userId: user.id, workspaceId: invitation.workspaceId };
    if (claimed.count === 1) {
      const memberId = newId('tm');
      const created = await tx.teamMember.createMany({
        data: [{ id: memberId, ...key, role: invitation.role, status: 'online' }],
        skipDuplicates: true,
      });
      if (created.count === 1) {
        await logActivity(tx, invitation.workspaceId, 'team_member_added', `Team member ${user.name} added as ${invitation.role}`, {
          teamMemberId: memberId,
          userId: user.id,
          role: invitation.role,
        });
      }
    } else if (!(await tx.teamMember.findUnique({ where: { userId_workspaceId: key }, select: { id: true } }))) {
      throw notFound(NOT_FOUND); // accepted long ago, membership since gone: nothing to accept
    }
    return { message: 'Invitation accepted', workspaceId: invitation.workspace.id, workspaceName: invitation.workspace.name };
  });
}

/** I3 */
export async function declineInvitation(prisma: PrismaClient, invitationId: string, userId: string) {
  const deleted = await prisma.workspaceInvitation.deleteMany({ where: { id: invitationId, inviteeId: userId, status: 'pending' } });
  if (deleted.count === 0) throw notFound(NOT_FOUND);
  return { message: 'Invitation declined' };
}
