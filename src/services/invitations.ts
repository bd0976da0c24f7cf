/**
 * Invitations seen by the invitee (D7): list pending, accept (idempotent and race-safe:
 * the pending→accepted transition is claimed by one transaction, the membership insert
 * ignores duplicates; the sender must still be allowed to invite), decline (deletes the row).
 */
import type { PrismaClient } from '../db/client.js';
import { AppError, notFound } from '../http/errors.js';
import { newId } from '../lib/ids.js';
import { presentInvitation } from '../presenters/invitation.js';
import { invitationStands, roleOfUser } from '../policies/index.js';
import { logActivity } from './activity.js';
import { revokeInvitationsSentBy } from './team.js';

const NOT_FOUND = 'Invitation not found';
export const REVOKED = 'Invitation revoked: its sender can no longer invite members to this workspace';

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

/**
 * I2: a repeat accept answers the same as long as the membership it created exists. The
 * sender's right to invite is checked again: an invitation whose sender lost it is revoked
 * (with the sender's other pending ones there) and answers 410.
 */
export async function acceptInvitation(prisma: PrismaClient, invitationId: string, user: { id: string; name: string }) {
  const accepted = await prisma.$transaction(async (tx) => {
    const claimed = await tx.workspaceInvitation.updateMany({
      where: { id: invitationId, inviteeId: user.id, status: 'pending' },
      data: { status: 'accepted', respondedAt: new Date() },
    });
    const invitation = await tx.workspaceInvitation.findFirst({
      where: { id: invitationId, inviteeId: user.id, status: { in: ['accepted', 'revoked'] } },
      include: { workspace: { select: { id: true, name: true, ownerId: true } } },
    });
    if (!invitation) throw notFound(NOT_FOUND);
    if (invitation.status === 'revoked') return null;
    const key = { userId: user.id, workspaceId: invitation.workspaceId };
    if (claimed.count === 1) {
      const inviter = await tx.teamMember.findUnique({
        where: { userId_workspaceId: { userId: invitation.inviterId, workspaceId: invitation.workspaceId } },
        select: { role: true },
      });
      if (!invitationStands(roleOfUser(invitation.workspace, invitation.inviterId, inviter?.role))) {
        await tx.workspaceInvitation.update({ where: { id: invitation.id }, data: { status: 'revoked', respondedAt: null } });
        await revokeInvitationsSentBy(tx, invitation.workspaceId, invitation.inviterId);
        return null;
      }
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
  if (!accepted) throw new AppError(410, REVOKED);
  return accepted;
}

/** I3 */
export async function declineInvitation(prisma: PrismaClient, invitationId: string, userId: string) {
  const deleted = await prisma.workspaceInvitation.deleteMany({ where: { id: invitationId, inviteeId: userId, status: 'pending' } });
  if (deleted.count === 0) throw notFound(NOT_FOUND);
  return { message: 'Invitation declined' };
}
