/**
 * Workspaces: list (members and stats for the whole list in one statement), create, read,
 * update, delete (one cascading transaction).
 */
import type { PrismaClient } from '../db/client.js';
import { Prisma } from '../generated/prisma/client.js';
import { newId } from '../lib/ids.js';
import { teamMemberInclude } from '../presenters/team-member.js';
import { presentWorkspace } from '../presenters/workspace.js';
import { logActivity } from './activity.js';
import { type StatsColumns, statsColumns, statsFromRow, statsJoins, workspaceStats } from './workspace-stats.js';

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

interface ListRow extends StatsColumns {
  id: string;
  name: string;
  description: string | null;
  ownerId: string;
  createdAt: Date;
  updatedAt: Date;
  total: number;
  members: string | MemberJson[];
}
type MemberJson = { id: string; userId: string; workspaceId: string; role: string; status: string; joinedAt: string; name: string; email: string };

/**
 * W1: the caller's workspaces, newest update first, with members and stats, in ONE
 * statement whatever the number of workspaces (the frontend polls it every 10 s).
 * The full list unless paged (D21).
 */
export async function listWorkspaces(prisma: PrismaClient, userId: string, page: { limit?: number; offset?: number }) {
  const now = new Date();
  const rows = await prisma.$queryRaw<ListRow[]>(Prisma.sql`
    WITH visible AS (
      SELECT w."id", w."name", w."description", w."owner_id", w."created_at", w."updated_at", count(*) OVER () AS "total"
        FROM "workspaces" w
       WHERE w."owner_id" = ${userId}::uuid
          OR EXISTS (SELECT 1 FROM "team_members" t WHERE t."workspace_id" = w."id" AND t."user_id" = ${userId}::uuid)
       ORDER BY w."updated_at" DESC, w."id"
       LIMIT ${page.limit ?? null}::int OFFSET ${page.offset ?? 0}::int
    )
    SELECT w."id", w."name", w."description", w."owner_id"::text AS "ownerId", w."created_at" AS "createdAt",
           w."updated_at" AS "updatedAt", w."total"::int AS "total",
           COALESCE((
             SELECT json_agg(json_build_object(
                      'id', tm."id", 'userId', tm."user_id", 'workspaceId', tm."workspace_id", 'role', tm."role",
                      'status', tm."status", 'joinedAt', tm."joined_at", 'name', u."name", 'email', u."email")
                    ORDER BY tm."joined_at", tm."id")
               FROM "team_members" tm JOIN "users" u ON u."id" = tm."user_id"
              WHERE tm."workspace_id" = w."id"), '[]') AS "members",
           ${statsColumns}
      FROM visible w ${statsJoins(now)}
     ORDER BY w."updated_at" DESC, w."id"`);
  const paged = page.limit !== undefined || page.offset !== undefined;
  const total = rows[0]?.total ?? (paged ? await prisma.workspace.count({ where: visibleTo(userId) }) : 0);
  const workspaces = rows.map((row) => {
    const members = (typeof row.members === 'string' ? (JSON.parse(row.members) as MemberJson[]) : row.members).map((m) => ({
      ...m,
      joinedAt: new Date(m.joinedAt),
      user: { id: m.userId, name: m.name, email: m.email },
    }));
    return presentWorkspace({ ...row, createdAt: new Date(row.createdAt), updatedAt: new Date(row.updatedAt), members }, statsFromRow(row));
  });
  return { workspaces, total };
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
