/**
 * The membership rule, written once: a user belongs to a workspace as its owner
 * (workspaces.owner_id) or through a team_members row, and holds that row's role; the owner
 * holds `owner`, whatever their own row says (it says admin).
 *
 * It is a SQL fragment (`memberships`) so that everything reading it stays one statement:
 * the policies' subject loaders (`roleIn`, riding along with the authentication statement),
 * the workspace list, search, export and the MCP default workspace (`memberWorkspaceIds`).
 * How roles nest, and what each may do, is the policies' business (src/policies/).
 */
import type { Database } from '../db/client.js';
import { Prisma } from '../generated/prisma/client.js';
import type { Db } from './sql.js';

/**
 * A user: the id as a value, or an SQL expression yielding it (inside the authentication
 * statement of an API key, the key's user is a column of its row).
 */
export type UserRef = string | Prisma.Sql;

/**
 * The workspaces a caller is limited to (an API key's): ids as a value, or an SQL `text[]`
 * expression where an empty array means no limit; null: no limit.
 */
export type WorkspaceLimit = readonly string[] | Prisma.Sql | null;

const within = (workspaceId: Prisma.Sql, limit: WorkspaceLimit | undefined) =>
  limit === null || limit === undefined
    ? Prisma.empty
    : Prisma.sql` AND (coalesce(cardinality(${limit}::text[]), 0) = 0 OR ${workspaceId} = ANY(${limit}::text[]))`;

/**
 * Rows (workspace_id, role): one per ownership and one per team row of the user, inside
 * `limit` when given. Both branches are index probes.
 */
export const memberships = (userId: UserRef, limit?: WorkspaceLimit) => Prisma.sql`
  SELECT o."id" AS "workspace_id", 'owner'::varchar AS "role" FROM "workspaces" o WHERE o."owner_id" = ${userId}::uuid${within(Prisma.sql`o."id"`, limit)}
  UNION ALL
  SELECT t."workspace_id", t."role" FROM "team_members" t WHERE t."user_id" = ${userId}::uuid${within(Prisma.sql`t."workspace_id"`, limit)}`;

/** The user's role in the workspace whose id is the SQL expression `workspaceId` (NULL for non-members). */
export const roleIn = (workspaceId: Prisma.Sql, userId: UserRef) => Prisma.sql`
  (SELECT ms."role" FROM (${memberships(userId)}) ms WHERE ms."workspace_id" = ${workspaceId}
    ORDER BY ms."role" = 'owner' DESC LIMIT 1)`;

/** Ids of every workspace the user belongs to (inside `limit`), as a subquery (`w."id" IN (…)`). */
export const memberWorkspaceIds = (userId: UserRef, limit?: WorkspaceLimit) => Prisma.sql`SELECT ms."workspace_id" FROM (${memberships(userId, limit)}) ms`;

/**
 * Ids of every workspace the user belongs to, inside `limit` when given (reads across workspaces: search). Raw: the
 * rule is the fragment above; the prepared-statement path because search is a measured hot path.
 */
export async function readableWorkspaceIds(db: Pick<Database, 'query'>, userId: string, limit: readonly string[] | null = null): Promise<string[]> {
  const statement = Prisma.sql`SELECT DISTINCT ms."workspace_id" AS "id" FROM (${memberships(userId, limit)}) ms`;
  const rows = await db.query<{ id: string }>(statement.text, statement.values, limit ? 'readable-workspace-ids-within' : 'readable-workspace-ids');
  return rows.map((r) => r.id);
}

/** The user's role in one workspace as stored, null when not a member. Raw: the rule is the fragment above. */
export async function roleOf(db: Db, workspaceId: string, userId: string): Promise<string | null> {
  const rows = await db.$queryRaw<{ role: string | null }[]>`SELECT ${roleIn(Prisma.sql`${workspaceId}`, userId)} AS "role"`;
  return rows[0]?.role ?? null;
}
