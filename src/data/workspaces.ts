/**
 * Workspaces: every statement on the `workspaces` table, the workspace list (W1) among them.
 * A workspace is read with its members (joining order); its stats come from workspace-stats.ts.
 */
import type { Database } from '../db/client.js';
import { Prisma, type TeamMember, type User, type Workspace } from '../generated/prisma/client.js';
import { newId } from '../lib/ids.js';
import { memberWorkspaceIds, roleIn, type UserRef, type WorkspaceLimit } from './membership.js';
import { columns, type Db, type RowOf } from './sql.js';
import { joiningOrder, type MemberWithUser, withUser } from './team-members.js';
import { type StatsColumns, statsColumns, statsFromRow, statsJoins, statsValidUntil, type WorkspaceStats } from './workspace-stats.js';

/** The workspace's own fields, as raw statements select them (from alias `w`). */
const workspaceColumns = columns('Workspace', 'w', {
  id: 'id',
  name: 'name',
  description: 'description',
  ownerId: 'owner_id',
  autoRetrieve: 'auto_retrieve',
  systemPrompt: 'system_prompt',
  defaultModelId: 'default_model_id',
  autoExtract: 'auto_extract',
  retrievalTopK: 'retrieval_top_k',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
});

/** The settings an admin may change (W4), each optional. */
export type WorkspaceSettings = Pick<Workspace, 'systemPrompt' | 'defaultModelId' | 'autoRetrieve' | 'autoExtract' | 'retrievalTopK'>;

export type WorkspaceRow = RowOf<typeof workspaceColumns>;

/** A workspace as the API shows it, with its members. */
export type WorkspaceWithMembers = WorkspaceRow & { members: MemberWithUser[] };

/** The row the workspace policy loads: the workspace with the caller's role in it. */
export type WorkspaceSubjectRow = Pick<Workspace, 'id' | 'name' | 'ownerId'> & { role: unknown };

/**
 * The subject loader's statement: one JSON value (null without the workspace). Raw: it rides
 * along with the authentication statement.
 */
export const workspaceSubject = (actorId: UserRef, workspaceId: string) => Prisma.sql`
  SELECT json_build_object('id', w."id", 'name', w."name", 'ownerId', w."owner_id", 'role', ${roleIn(Prisma.sql`w."id"`, actorId)})
    FROM "workspaces" w WHERE w."id" = ${workspaceId}`;

export const insertWorkspace = (db: Db, data: Pick<Workspace, 'name' | 'description' | 'ownerId'> & Partial<WorkspaceSettings>) =>
  db.workspace.create({ data: { id: newId('workspace'), ...data } });

/** The workspace with its members; null when there is none. */
export const findWorkspace = (db: Db, workspaceId: string): Promise<WorkspaceWithMembers | null> =>
  db.workspace.findUnique({ where: { id: workspaceId }, include: { members: { include: withUser, orderBy: joiningOrder } } });

/**
 * Only the keys present change; updatedAt is bumped either way (and with it, by trigger, the
 * workspace's list version).
 */
export const updateWorkspace = (db: Db, workspaceId: string, data: Partial<Pick<Workspace, 'name' | 'description'> & WorkspaceSettings>) =>
  db.workspace.update({ where: { id: workspaceId }, data: { ...data, updatedAt: new Date() } });

/** The model a conversation of the workspace starts with when it names none; null without a default (or a workspace). */
export async function workspaceDefaultModel(db: Db, workspaceId: string): Promise<string | null> {
  const row = await db.workspace.findUnique({ where: { id: workspaceId }, select: { defaultModelId: true } });
  return row?.defaultModelId ?? null;
}

/**
 * One DELETE; the foreign keys cascade to conversations, messages, injection links,
 * memories, chunks, members, invitations, snapshots, activities and counters, atomically.
 */
export const deleteWorkspace = (db: Db, workspaceId: string) => db.workspace.delete({ where: { id: workspaceId } });

/** Deletes every workspace the user owns (their contents cascade). */
export const deleteWorkspacesOwnedBy = (db: Db, ownerId: string) => db.workspace.deleteMany({ where: { ownerId } });

/**
 * The workspaces the user belongs to, by id, `take` after `afterId` (keyset pages). Raw: the
 * membership rule is a SQL fragment shared with the policies.
 */
export const memberWorkspacesAfter = (db: Db, userId: string, afterId: string | null, take: number) =>
  db.$queryRaw<WorkspaceRow[]>`
    SELECT ${Prisma.raw(workspaceColumns.sql)} FROM "workspaces" w
     WHERE w."id" IN (${memberWorkspaceIds(userId)}) AND (${afterId}::text IS NULL OR w."id" > ${afterId})
     ORDER BY w."id" LIMIT ${take}`;

/* ------------------------------------------------------------------------------------------
 * The workspace list (W1). Raw: members and stats are aggregated as JSON in the same
 * statement, whatever the number of workspaces; its first step rides along with the
 * authentication statement. The statements run on the plain query path (`Database.query`),
 * not Prisma's: the list is a measured hot path (bench/suites/workspaces.ts).
 * ---------------------------------------------------------------------------------------- */

export interface ListPage {
  limit?: number;
  offset?: number;
}

/** One workspace of a list page: id, list version (null before its counters row exists), total of the page's query. */
export type StampTuple = [id: string, version: string | null, total: number];

/** A cheap check of each stamp's three types (the value arrives as JSON). */
export const isStampList = (value: unknown): value is StampTuple[] =>
  Array.isArray(value) &&
  value.every((t) => Array.isArray(t) && t.length === 3 && typeof t[0] === 'string' && (t[1] === null || typeof t[1] === 'string') && typeof t[2] === 'number');

const pageClause = (page: ListPage) => Prisma.sql`
  ORDER BY w."updated_at" DESC, w."id"
  LIMIT ${page.limit ?? null}::int OFFSET ${page.offset ?? 0}::int`;

/**
 * The page's ids, newest update first, with their list versions and the total, as one JSON
 * value [[id, version, total], …] in page order. Its text never varies (values are
 * parameters), so it can be a prepared statement.
 */
export const listStampsSql = (userId: UserRef, page: ListPage, limit: WorkspaceLimit) => Prisma.sql`
  SELECT coalesce(json_agg(json_build_array(s."id", s."version", s."total") ORDER BY s."ord"), '[]'::json)
    FROM (SELECT w."id", k."list_version"::text AS "version", (count(*) OVER ())::int AS "total",
                 row_number() OVER (ORDER BY w."updated_at" DESC, w."id") AS "ord"
            FROM "workspaces" w LEFT JOIN "workspace_counters" k ON k."workspace_id" = w."id"
           WHERE w."id" IN (${memberWorkspaceIds(userId, limit)})
           ${pageClause(page)}) s`;

/** One workspace of the list, with what the list shows of it. */
export interface ListedWorkspace {
  workspace: WorkspaceWithMembers;
  stats: WorkspaceStats;
  /** Its list version (null before its counters row exists). */
  version: string | null;
  /** Epoch ms (exclusive) until which `stats` stay exact without a write. */
  validUntil: number;
}

/** A member as the list statement aggregates it (JSON: the date is text). */
type MemberJson = Omit<TeamMember, 'joinedAt'> & Pick<User, 'name' | 'email'> & { joinedAt: string };

type ListRow = WorkspaceRow &
  StatsColumns & {
    version: string | null;
    total: number;
    members: MemberJson[];
    /** Step 3 only: the current versions of the checked workspaces. */
    versions?: Record<string, string> | null;
  };

/** Workspace rows with members, stats and list version, in one statement. */
function listStatement(source: Prisma.Sql, now: Date, extra: Prisma.Sql = Prisma.empty) {
  return Prisma.sql`
    SELECT ${Prisma.raw(workspaceColumns.sql)}, w."total"::int AS "total", k."list_version"::text AS "version",
           COALESCE((
             SELECT json_agg(json_build_object(
                      'id', tm."id", 'userId', tm."user_id", 'workspaceId', tm."workspace_id", 'role', tm."role",
                      'status', tm."status", 'joinedAt', tm."joined_at", 'name', u."name", 'email', u."email")
                    ORDER BY tm."joined_at", tm."id")
               FROM "team_members" tm JOIN "users" u ON u."id" = tm."user_id"
              WHERE tm."workspace_id" = w."id"), '[]') AS "members",
           ${statsColumns} ${extra}
      FROM (${source}) w ${statsJoins(now)}
     ORDER BY w."updated_at" DESC, w."id"`;
}

const WORKSPACE_COLUMNS = Prisma.sql`w."id", w."name", w."description", w."owner_id", w."auto_retrieve", w."system_prompt", w."default_model_id",
  w."auto_extract", w."retrieval_top_k", w."created_at", w."updated_at"`;

function listed(row: ListRow): ListedWorkspace {
  const members = row.members.map(({ name, email, joinedAt, ...m }) => ({ ...m, joinedAt: new Date(joinedAt), user: { id: m.userId, name, email } }));
  const { id, name, description, ownerId, autoRetrieve, systemPrompt, defaultModelId, autoExtract, retrievalTopK, createdAt, updatedAt } = row;
  return {
    workspace: { id, name, description, ownerId, autoRetrieve, systemPrompt, defaultModelId, autoExtract, retrievalTopK, createdAt, updatedAt, members },
    stats: statsFromRow(row),
    version: row.version,
    validUntil: statsValidUntil(row),
  };
}

const run = async (db: Pick<Database, 'query'>, statement: Prisma.Sql) => db.query<ListRow>(statement.text, statement.values);

/** A whole page of the user's workspaces in one statement, with the total (null when the page is empty). */
export async function listPage(db: Pick<Database, 'query'>, userId: string, limit: WorkspaceLimit, page: ListPage, now: Date) {
  const rows = await run(
    db,
    listStatement(
      Prisma.sql`SELECT ${WORKSPACE_COLUMNS}, count(*) OVER () AS "total" FROM "workspaces" w
                  WHERE w."id" IN (${memberWorkspaceIds(userId, limit)}) ${pageClause(page)}`,
      now,
    ),
  );
  return { workspaces: rows.map(listed), total: rows[0]?.total ?? null };
}

/**
 * The given workspaces, and the current list versions of `check`, in one statement
 * (`versions` is null when none of them has a counters row).
 */
export async function listSome(db: Pick<Database, 'query'>, ids: string[], check: string[], now: Date) {
  const rows = await run(
    db,
    listStatement(
      Prisma.sql`SELECT ${WORKSPACE_COLUMNS}, 0 AS "total" FROM "workspaces" w WHERE w."id" = ANY(${ids}::text[])`,
      now,
      Prisma.sql`, (SELECT json_object_agg(c."workspace_id", c."list_version"::text) FROM "workspace_counters" c
                    WHERE c."workspace_id" = ANY(${check}::text[])) AS "versions"`,
    ),
  );
  return { workspaces: rows.map(listed), versions: rows[0]?.versions ?? null };
}

/** How many workspaces the user belongs to. */
export async function countMemberWorkspaces(db: Pick<Database, 'query'>, userId: string, limit: WorkspaceLimit = null): Promise<number> {
  const statement = Prisma.sql`SELECT count(DISTINCT v."workspace_id")::int AS "n" FROM (${memberWorkspaceIds(userId, limit)}) v`;
  const [row] = await db.query<{ n: number }>(statement.text, statement.values);
  return row?.n ?? 0;
}

/** The most recently updated workspace the user belongs to, or null when they belong to none. */
export async function latestWorkspaceIdOf(db: Db, userId: string, limit: WorkspaceLimit = null): Promise<string | null> {
  // Raw: the membership rule is an SQL fragment, shared with the policies.
  const rows = await db.$queryRaw<Pick<Workspace, 'id'>[]>(
    Prisma.sql`SELECT w."id" FROM "workspaces" w WHERE w."id" IN (${memberWorkspaceIds(userId, limit)}) ORDER BY w."updated_at" DESC, w."id" LIMIT 1`,
  );
  return rows[0]?.id ?? null;
}

/** Whose workspaces a deletion by age covers: one owner's, or those of every owner with a retention period. */
export type Owners = { ownerId: string } | { retentionPeriod: string };

/** The workspaces of `owners`, as a relation filter. */
export const ownedBy = (owners: Owners): Prisma.WorkspaceWhereInput =>
  'ownerId' in owners ? { ownerId: owners.ownerId } : { owner: { retentionPeriod: owners.retentionPeriod } };
