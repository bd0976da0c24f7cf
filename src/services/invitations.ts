/**
 * Invitations seen by the invitee (D7): list pending, accept (idempotent and race-safe:
 * the pending→accepted transition is claimed by one transaction, the membership insert
 * ignores duplicates; the sender must still be allowed to invite), decline (deletes the row).
 * The invitation policy has seen that the invitation is the caller's.
 */
import * as invitations from '../data/invitations.js';
import { roleOf } from '../data/membership.js';
import type { Db } from '../data/sql.js';
import { hasTeamRow, insertMemberIfAbsent } from '../data/team-members.js';
import type { PrismaClient } from '../db/client.js';
import { AppError, notFound } from '../lib/errors.js';
import { invitationStands, roleFrom } from '../policies/index.js';
import { logActivity } from './activity.js';

const NOT_FOUND = 'Invitation not found';
export const REVOKED = 'Invitation revoked: its sender can no longer invite members to this workspace';

/** I1: the caller's pending invitations, newest first. */
export async function listInvitations(db: Db, userId: string, page: { limit?: number; offset?: number }) {
  const paged = page.limit !== undefined || page.offset !== undefined;
  const [rows, total] = await Promise.all([
    invitations.pendingInvitationsOf(db, userId, page),
    paged ? invitations.countPendingInvitationsOf(db, userId) : null,
  ]);
  return { invitations: rows, total: total ?? rows.length };
}

/**
 * I2: a repeat accept answers the same as long as the membership it created exists. The
 * sender's right to invite is checked again: an invitation whose sender lost it is revoked
 * (with the sender's other pending ones there) and answers 410.
 */
export async function acceptInvitation(db: PrismaClient, invitationId: string, user: { id: string; name: string }) {
  const accepted = await db.$transaction(async (tx) => {
    const claimed = await invitations.claimAcceptance(tx, invitationId);
    const invitation = await invitations.findAnsweredInvitation(tx, invitationId);
    if (!invitation) throw notFound(NOT_FOUND);
    if (invitation.status === 'revoked') return null;
    const { workspaceId } = invitation;
    if (claimed) {
      if (!invitationStands(roleFrom(await roleOf(tx, workspaceId, invitation.inviterId)))) {
        await invitations.revokeInvitation(tx, invitation.id);
        await invitations.revokeInvitationsSentBy(tx, workspaceId, invitation.inviterId);
        return null;
      }
      const memberId = await insertMemberIfAbsent(tx, { userId: user.id, workspaceId, role: invitation.role, status: 'online' });
      if (memberId !== null) {
        await logActivity(tx, workspaceId, 'team_member_added', `Team member ${user.name} added as ${invitation.role}`, {
          teamMemberId: memberId,
          userId: user.id,
          role: invitation.role,
        });
      }
    } else if (!(await hasTeamRow(tx, workspaceId, user.id))) {
      throw notFound(NOT_FOUND); // accepted long ago, the membership it created since gone: nothing to accept
    }
    return { workspaceId: invitation.workspace.id, workspaceName: invitation.workspace.name };
  });
  if (!accepted) throw new AppError(410, REVOKED);
  return accepted;
}

/** I3 */
export async function declineInvitation(db: Db, invitationId: string) {
  if (!(await invitations.deletePendingInvitation(db, invitationId))) throw notFound(NOT_FOUND);
}
