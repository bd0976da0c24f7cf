/**
 * Team of a workspace: list, invite, change role, update own status, remove. The team-member
 * policy has decided who may do which (including leave vs remove and the owner's row);
 * these functions do the work.
 */
import type { PrismaClient } from '../db/client.js';
import type { Prisma } from '../generated/prisma/client.js';
import { badRequest, notFound } from '../http/errors.js';
import { isUuid, newId } from '../lib/ids.js';
import { invitationStands, roleFrom } from '../policies/index.js';
import { presentSentInvitation } from '../presenters/invitation.js';
import { presentTeamMember, teamMemberInclude } from '../presenters/team-member.js';
import { isUniqueViolation, normaliseEmail } from './auth/session.js';

type Workspace = { id: string; name: string; ownerId: string };

const MEMBER_NOT_FOUND = 'Team member not found';

/** T1: every member (the owner's row too) in insertion order; the full list unless paged. */
export async function listTeam(prisma: PrismaClient, workspaceId: string, page: { limit?: number; offset?: number }) {
  const paged = page.limit !== undefined || page.offset !== undefined;
  const [members, total] = await Promise.all([
    prisma.teamMember.findMany({
      where: { workspaceId },
      include: teamMemberInclude,
      orderBy: [{ joinedAt: 'asc' }, { id: 'asc' }],
      skip: page.offset,
      take: page.limit,
    }),
    paged ? prisma.teamMember.count({ where: { workspaceId } }) : null,
  ]);
  return { members: members.map(presentTeamMember), total: total ?? members.length };
}

/** The membership addressed by a user UUID; anything else (including a non-UUID) is 404. */
async function findMember(prisma: PrismaClient, workspaceId: string, userId: string) {
  if (!isUuid(userId)) throw notFound(MEMBER_NOT_FOUND);
  const member = await prisma.teamMember.findUnique({ where: { userId_workspaceId: { userId, workspaceId } }, include: teamMemberInclude });
  if (!member) throw notFound(MEMBER_NOT_FOUND);
  return member;
}

/**
 * T2: invites a registered user by email with a role (default researcher). An answered
 * invitation left behind (e.g. declined earlier) is reopened instead of colliding.
 */
export async function invite(prisma: PrismaClient, workspace: Workspace, inviterId: string, input: { email: string; role?: string }) {
  const invitee = await prisma.user.findUnique({ where: { email: normaliseEmail(input.email) }, select: { id: true, email: true } });
  if (!invitee) throw notFound('User not found with this email');
  if (invitee.id === inviterId) throw badRequest('Cannot invite yourself');
  const alreadyMember = () => badRequest('User is already a member of this workspace');
  if (invitee.id === workspace.ownerId) throw alreadyMember();
  const key = { workspaceId: workspace.id, inviteeId: invitee.id };
  const [member, existing] = await Promise.all([
    prisma.teamMember.findUnique({ where: { userId_workspaceId: { userId: invitee.id, workspaceId: workspace.id } }, select: { id: true } }),
    prisma.workspaceInvitation.findUnique({ where: { workspaceId_inviteeId: key }, select: { status: true } }),
  ]);
  if (member) throw alreadyMember();
  const alreadySent = () => badRequest('Invitation already sent to this user');
  if (existing?.status === 'pending') throw alreadySent();
  const data = { inviterId, role: input.role ?? 'researcher', status: 'pending', createdAt: new Date(), respondedAt: null };
  if (existing) {
    const reopened = await prisma.workspaceInvitation.updateMany({ where: { ...key, status: { not: 'pending' } }, data });
    if (reopened.count === 0) throw alreadySent();
  } else {
    try {
      await prisma.workspaceInvitation.create({ data: { id: newId('inv'), ...key, ...data } });
    } catch (error) {
      if (isUniqueViolation(error)) throw alreadySent(); // a concurrent invite won
      throw error;
    }
  }
  const invitation = await prisma.workspaceInvitation.findUniqueOrThrow({ where: { workspaceId_inviteeId: key } });
  return presentSentInvitation(invitation, workspace.name, invitee.email);
}

/** Revokes the pending invitations a member sent to a workspace (they no longer carry authority to invite). */
export const revokeInvitationsSentBy = (db: Prisma.TransactionClient, workspaceId: string, inviterId: string) =>
  db.workspaceInvitation.updateMany({ where: { workspaceId, inviterId, status: 'pending' }, data: { status: 'revoked' } });

/**
 * T3: any role but owner (the schema refuses it) for anyone but the owner (the policy refuses
 * that); a demotion below inviting revokes the member's pending invitations.
 */
export async function changeRole(prisma: PrismaClient, workspace: Workspace, userId: string, role: string) {
  const member = await findMember(prisma, workspace.id, userId);
  const updated = await prisma.$transaction(async (tx) => {
    const row = await tx.teamMember.update({ where: { id: member.id }, data: { role }, include: teamMemberInclude });
    if (!invitationStands(roleFrom(role))) await revokeInvitationsSentBy(tx, workspace.id, member.userId);
    return row;
  });
  return presentTeamMember(updated);
}

/** T4: a member's presence status (their own: the policy sees to it). */
export async function updateStatus(prisma: PrismaClient, workspaceId: string, userId: string, status: string) {
  const member = await findMember(prisma, workspaceId, userId);
  const updated = await prisma.teamMember.update({ where: { id: member.id }, data: { status }, include: teamMemberInclude });
  return presentTeamMember(updated);
}

/**
 * T5: removes the membership and the user's invitations to the workspace (so they can be
 * re-invited), and revokes the pending invitations they sent to it.
 */
export async function removeMember(prisma: PrismaClient, workspace: Workspace, userId: string) {
  const member = await findMember(prisma, workspace.id, userId);
  const [removed] = await prisma.$transaction([
    prisma.teamMember.deleteMany({ where: { id: member.id } }),
    prisma.workspaceInvitation.deleteMany({ where: { workspaceId: workspace.id, inviteeId: member.userId } }),
    revokeInvitationsSentBy(prisma, workspace.id, member.userId),
  ]);
  if (removed.count === 0) throw notFound(MEMBER_NOT_FOUND); // a concurrent remove won
  return { message: 'Team member removed successfully' };
}
