/**
 * Invitations: every statement on the `workspace_invitations` table. One row per workspace
 * and invitee; its status is pending, accepted, declined or revoked.
 */
import { Prisma, type WorkspaceInvitation } from '../generated/prisma/client.js';
import { newId } from '../lib/ids.js';
import type { Db } from './sql.js';

/**
 * The personal-resource loader's statement: {id, ownerId} of the invitation, the invitee
 * being its owner. Raw: it rides along with the authentication statement.
 */
export const invitationSubject = (id: string) =>
  Prisma.sql`SELECT json_build_object('id', v."id", 'ownerId', v."invitee_id") FROM "workspace_invitations" v WHERE v."id" = ${id}`;

/** What the invitee's list shows of an invitation: the workspace's name and who sent it. */
const withSender = { workspace: { select: { name: true } }, inviter: { select: { name: true, email: true } } } as const satisfies Prisma.WorkspaceInvitationInclude;

export type ReceivedInvitation = Prisma.WorkspaceInvitationGetPayload<{ include: typeof withSender }>;

const pendingFor = (inviteeId: string) => ({ inviteeId, status: 'pending' });

/** The user's pending invitations, newest first, optionally one page of them. */
export const pendingInvitationsOf = (db: Db, inviteeId: string, page: { limit?: number; offset?: number }): Promise<ReceivedInvitation[]> =>
  db.workspaceInvitation.findMany({
    where: pendingFor(inviteeId),
    include: withSender,
    orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
    skip: page.offset,
    take: page.limit,
  });

export const countPendingInvitationsOf = (db: Db, inviteeId: string) => db.workspaceInvitation.count({ where: pendingFor(inviteeId) });

type Key = Pick<WorkspaceInvitation, 'workspaceId' | 'inviteeId'>;

/** The invitation of a workspace to a user; null when there is none. */
export const findInvitationTo = (db: Db, key: Key) => db.workspaceInvitation.findUnique({ where: { workspaceId_inviteeId: key } });

type Sent = Pick<WorkspaceInvitation, 'inviterId' | 'role'>;

/** A new pending invitation (a unique violation when one to that user exists: a concurrent invite won). */
export const insertInvitation = (db: Db, key: Key, sent: Sent) =>
  db.workspaceInvitation.create({ data: { id: newId('inv'), ...key, ...sent, status: 'pending' } });

/** Makes an answered invitation pending again, as if just sent; null when it is pending already (or gone). */
export async function reopenInvitation(db: Db, key: Key, sent: Sent): Promise<WorkspaceInvitation | null> {
  const [reopened] = await db.workspaceInvitation.updateManyAndReturn({
    where: { ...key, status: { not: 'pending' } },
    data: { ...sent, status: 'pending', createdAt: new Date(), respondedAt: null },
  });
  return reopened ?? null;
}

/** Claims the pending → accepted transition; false when the invitation is not pending (answered already, or gone). */
export async function claimAcceptance(db: Db, id: string): Promise<boolean> {
  const claimed = await db.workspaceInvitation.updateMany({ where: { id, status: 'pending' }, data: { status: 'accepted', respondedAt: new Date() } });
  return claimed.count === 1;
}

/** An accepted or revoked invitation with its workspace; null when it is neither (or gone). */
export const findAnsweredInvitation = (db: Db, id: string) =>
  db.workspaceInvitation.findFirst({
    where: { id, status: { in: ['accepted', 'revoked'] } },
    include: { workspace: { select: { id: true, name: true } } },
  });

export const revokeInvitation = (db: Db, id: string) => db.workspaceInvitation.update({ where: { id }, data: { status: 'revoked', respondedAt: null } });

/** Revokes the pending invitations a member sent to a workspace. */
export const revokeInvitationsSentBy = (db: Db, workspaceId: string, inviterId: string) =>
  db.workspaceInvitation.updateMany({ where: { workspaceId, inviterId, status: 'pending' }, data: { status: 'revoked' } });

/** Deletes the invitations of a workspace to a user, whatever their status. */
export const deleteInvitationsTo = (db: Db, key: Key) => db.workspaceInvitation.deleteMany({ where: key });

/** Deletes a pending invitation; false when it is not pending (or gone). */
export async function deletePendingInvitation(db: Db, id: string): Promise<boolean> {
  return (await db.workspaceInvitation.deleteMany({ where: { id, status: 'pending' } })).count === 1;
}
