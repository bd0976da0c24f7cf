/**
 * Team members: every statement on the `team_members` table. A member is read with the
 * user it is (id, name, email), in joining order, the order the contract's lists use.
 */
import { Prisma, type TeamMember, type Workspace } from '../generated/prisma/client.js';
import { isUuid, newId } from '../lib/ids.js';
import { roleIn, type UserRef } from './membership.js';
import type { Db } from './sql.js';

/** What a member is read with: the user it is. */
export const withUser = { user: { select: { id: true, name: true, email: true } } } as const satisfies Prisma.TeamMemberInclude;

export type MemberWithUser = Prisma.TeamMemberGetPayload<{ include: typeof withUser }>;

/** Joining order (ties by id). */
export const joiningOrder = [{ joinedAt: 'asc' }, { id: 'asc' }] as const satisfies Prisma.TeamMemberOrderByWithRelationInput[];

/** The row the team-member policy loads: the workspace, the caller's role and the addressed user's team row. */
export type TeamMemberSubjectRow = Pick<Workspace, 'id' | 'name' | 'ownerId'> & {
  role: unknown;
  /** The user id as the path gives it. */
  userId: string;
  memberUserId: TeamMember['userId'] | null;
};

/**
 * The subject loader's statement: one JSON value (null without the workspace). A non-UUID
 * user id names no member. Raw: it rides along with the authentication statement.
 */
export const teamMemberSubject = (actorId: UserRef, workspaceId: string, userId: string) => Prisma.sql`
  SELECT json_build_object('id', w."id", 'name', w."name", 'ownerId', w."owner_id", 'role', ${roleIn(Prisma.sql`w."id"`, actorId)},
           'userId', ${userId}::text,
           'memberUserId', (SELECT t."user_id" FROM "team_members" t WHERE t."workspace_id" = w."id" AND t."user_id" = ${isUuid(userId) ? userId : null}::uuid))
    FROM "workspaces" w WHERE w."id" = ${workspaceId}`;

/** A workspace's members in joining order, optionally one page of them. */
export const listMembers = (db: Db, workspaceId: string, page: { limit?: number; offset?: number } = {}): Promise<MemberWithUser[]> =>
  db.teamMember.findMany({ where: { workspaceId }, include: withUser, orderBy: joiningOrder, skip: page.offset, take: page.limit });

export const countMembers = (db: Db, workspaceId: string) => db.teamMember.count({ where: { workspaceId } });

/** Whether the user has a team row in the workspace (whether they belong to it is data/membership.ts). */
export async function hasTeamRow(db: Db, workspaceId: string, userId: string): Promise<boolean> {
  return (await db.teamMember.findUnique({ where: { userId_workspaceId: { userId, workspaceId } }, select: { id: true } })) !== null;
}

type NewMember = Pick<TeamMember, 'workspaceId' | 'userId' | 'role' | 'status'>;

export const insertMember = (db: Db, member: NewMember): Promise<TeamMember> => db.teamMember.create({ data: { id: newId('tm'), ...member } });

/** Adds a member unless the user already is one (a concurrent add won): the new row's id, or null. */
export async function insertMemberIfAbsent(db: Db, member: NewMember): Promise<string | null> {
  const id = newId('tm');
  const created = await db.teamMember.createMany({ data: [{ id, ...member }], skipDuplicates: true });
  return created.count === 1 ? id : null;
}

/** Updates a member's role or status; null when there is no such member. */
export async function updateMember(
  db: Db,
  workspaceId: string,
  userId: string,
  data: Partial<Pick<TeamMember, 'role' | 'status'>>,
): Promise<MemberWithUser | null> {
  try {
    return await db.teamMember.update({ where: { userId_workspaceId: { userId, workspaceId } }, data, include: withUser });
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2025') return null;
    throw error;
  }
}

/** Removes a member; false when there was none. */
export async function removeMember(db: Db, workspaceId: string, userId: string): Promise<boolean> {
  return (await db.teamMember.deleteMany({ where: { workspaceId, userId } })).count === 1;
}
