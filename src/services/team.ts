/**
 * Team of a workspace: list, invite, change role, update own status, remove. The team-member
 * policy has decided who may do which (including leave vs remove and the owner's row) and
 * that the addressed member exists; these functions do the work.
 */
import * as invitations from '../data/invitations.js';
import { roleOf } from '../data/membership.js';
import type { Db } from '../data/sql.js';
import * as members from '../data/team-members.js';
import { findUserByEmail } from '../data/users.js';
import type { PrismaClient } from '../db/client.js';
import { badRequest, notFound } from '../lib/errors.js';
import { invitationStands, roleFrom } from '../policies/index.js';
import { isUniqueViolation, normaliseEmail } from './auth/session.js';

/** The answer when the addressed member is gone since the policy saw it (a concurrent removal). */
const memberGone = () => notFound('Team member not found');

/** T1: every member (the owner's row too) in joining order; the full list unless paged. */
export async function listTeam(db: Db, workspaceId: string, page: { limit?: number; offset?: number }) {
  const paged = page.limit !== undefined || page.offset !== undefined;
  const [rows, total] = await Promise.all([members.listMembers(db, workspaceId, page), paged ? members.countMembers(db, workspaceId) : null]);
  return { members: rows, total: total ?? rows.length };
}

/**
 * T2: invites a registered user by email with a role (default researcher). An answered
 * invitation left behind (e.g. declined earlier) is reopened instead of colliding. Returns
 * the invitation and the invitee's email.
 */
export async function invite(db: Db, workspaceId: string, inviterId: string, input: { email: string; role?: string }) {
  const invitee = await findUserByEmail(db, normaliseEmail(input.email));
  if (!invitee) throw notFound('User not found with this email');
  if (invitee.id === inviterId) throw badRequest('Cannot invite yourself');
  const key = { workspaceId, inviteeId: invitee.id };
  const [role, existing] = await Promise.all([roleOf(db, workspaceId, invitee.id), invitations.findInvitationTo(db, key)]);
  if (role !== null) throw badRequest('User is already a member of this workspace');
  const alreadySent = () => badRequest('Invitation already sent to this user');
  if (existing?.status === 'pending') throw alreadySent();
  const sent = { inviterId, role: input.role ?? 'researcher' };
  if (existing) {
    const invitation = await invitations.reopenInvitation(db, key, sent);
    if (!invitation) throw alreadySent(); // a concurrent invite reopened it first
    return { invitation, inviteeEmail: invitee.email };
  }
  try {
    return { invitation: await invitations.insertInvitation(db, key, sent), inviteeEmail: invitee.email };
  } catch (error) {
    if (isUniqueViolation(error)) throw alreadySent(); // a concurrent invite won
    throw error;
  }
}

/**
 * T3: any role but owner (the schema refuses it) for anyone but the owner (the policy refuses
 * that); a demotion below inviting revokes the member's pending invitations.
 */
export async function changeRole(db: PrismaClient, workspaceId: string, userId: string, role: string) {
  return db.$transaction(async (tx) => {
    const member = await members.updateMember(tx, workspaceId, userId, { role });
    if (!member) throw memberGone();
    if (!invitationStands(roleFrom(role))) await invitations.revokeInvitationsSentBy(tx, workspaceId, userId);
    return member;
  });
}

/** T4: a member's presence status (their own: the policy sees to it). */
export async function updateStatus(db: Db, workspaceId: string, userId: string, status: string) {
  const member = await members.updateMember(db, workspaceId, userId, { status });
  if (!member) throw memberGone();
  return member;
}

/**
 * T5: removes the membership and the user's invitations to the workspace (so they can be
 * re-invited), and revokes the pending invitations they sent to it.
 */
export async function removeMember(db: PrismaClient, workspaceId: string, userId: string) {
  await db.$transaction(async (tx) => {
    if (!(await members.removeMember(tx, workspaceId, userId))) throw memberGone(); // a concurrent remove won
    await invitations.deleteInvitationsTo(tx, { workspaceId, inviteeId: userId });
    await invitations.revokeInvitationsSentBy(tx, workspaceId, userId);
  });
}
