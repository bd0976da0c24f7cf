/**
 * The membership rule, written once: a user belongs to a workspace as its owner
 * (workspaces.owner_id) or through a team_members row, and holds that row's role; the owner
 * holds `owner`, whatever their own row says (it says admin). Roles nest:
 * owner ⊇ admin ⊇ researcher ⊇ observer.
 *
 * `memberships` states it as rows; the role lookup of the policies and the workspace lists
 * (the polled list, search, export, the MCP default workspace) all read those rows.
 */
import type { Database } from '../db/client.js';
import { Prisma } from '../generated/prisma/client.js';

export type Role = 'owner' | 'admin' | 'researcher' | 'observer';

const RANK: Record<Role, number> = { observer: 0, researcher: 1, admin: 2, owner: 3 };

const isRole = (value: unknown): value is Role => typeof value === 'string' && value in RANK;

/** True when `role` is `least` or above; false for non-members (null) and unknown roles. */
export function atLeast(role: Role | null, least: Role): boolean {
  return role !== null && isRole(role) && RANK[role] >= RANK[least];
}

/**
 * Rows (workspace_id, role): one per ownership and one per team row of the user. Plain
 * SQL, so that the policies' lookups ride along with the authentication statement and the
 * list queries stay single statements; both branches are index probes.
 */
export const memberships = (userId: string) => Prisma.sql`
  SELECT o."id" AS "workspace_id", 'owner'::varchar AS "role" FROM "workspaces" o WHERE o."owner_id" = ${userId}::uuid
  UNION ALL
  SELECT t."workspace_id", t."role" FROM "team_members" t WHERE t."user_id" = ${userId}::uuid`;

/** The user's role in the workspace whose id is the SQL expression `workspaceId` (NULL for non-members). */
export const roleIn = (workspaceId: Prisma.Sql, userId: string) => Prisma.sql`
  (SELECT ms."role" FROM (${memberships(userId)}) ms WHERE ms."workspace_id" = ${workspaceId}
    ORDER BY ms."role" = 'owner' DESC LIMIT 1)`;

/** Ids of every workspace the user belongs to, as a subquery (`w."id" IN (…)`). */
export const memberWorkspaceIds = (userId: string) => Prisma.sql`SELECT ms."workspace_id" FROM (${memberships(userId)}) ms`;

/** Ids of every workspace the user belongs to (for reads across workspaces: search, export). */
export async function readableWorkspaceIds(db: Pick<Database, 'query'>, userId: string): Promise<string[]> {
  const statement = Prisma.sql`SELECT DISTINCT ms."workspace_id" AS "id" FROM (${memberships(userId)}) ms`;
  const rows = await db.query<{ id: string }>(statement.text, statement.values, 'readable-workspace-ids');
  return rows.map((r) => r.id);
}

/** The role as the rules read it: a known role or null. */
export const roleFrom = (value: unknown): Role | null => (isRole(value) ? value : null);

/** A user's role from their workspace's owner and their team row's role (the owner holds `owner`, whatever the row says). */
export const roleOfUser = (workspace: { ownerId: string }, userId: string, memberRole: unknown): Role | null =>
  workspace.ownerId === userId ? 'owner' : roleFrom(memberRole);
