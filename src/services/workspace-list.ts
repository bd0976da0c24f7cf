/**
 * W1, the workspace list the frontend polls every 10 s, served from a per-instance cache
 * that is exact across any number of instances on one database.
 *
 * Every workspace has a list version (workspace_counters.list_version) that triggers bump
 * in the writing transaction whenever something the list shows of it changes: the row,
 * members and their names, memories, conversations, messages, activities (see the
 * 20261201090000_workspace_list_version migration). A request:
 *   1. reads the caller's page of workspace ids with their versions (one indexed statement);
 *   2. takes each workspace whose version matches a cached entry that has not expired;
 *   3. computes the others in one statement, which also re-reads the versions of the whole
 *      page: when none moved since step 1, every entry of the answer describes the state
 *      step 1 saw, so the answer is exactly what a single fresh statement would have given
 *      then; when one moved (a write raced the request), the page is computed afresh in one
 *      statement, as without a cache.
 * The only part of an entry that depends on the clock is systemLoad's count of messages in
 * the last 60 minutes; an entry expires when its oldest counted message leaves the window.
 * Step 1 rides along with the authentication lookup (`listStamps`, RouteSpec.preload),
 * so a request costs 1 statement in all when nothing changed, and at most 4 otherwise,
 * whatever the number of workspaces.
 */
import { createHash } from 'node:crypto';
import type { Database } from '../db/client.js';
import type { Preload } from './auth/session.js';
import { Prisma } from '../generated/prisma/client.js';
import { memberWorkspaceIds } from '../policies/index.js';
import { presentWorkspace } from '../presenters/workspace.js';
import { type StatsColumns, statsColumns, statsFromRow, statsJoins, statsValidUntil } from './workspace-stats.js';

export interface ListPage {
  limit?: number;
  offset?: number;
}

type PresentedWorkspace = ReturnType<typeof presentWorkspace>;

/** A presented workspace with its serialized form and that form's digest. */
interface Item {
  workspace: PresentedWorkspace;
  json: string;
  digest: string;
}

interface Entry extends Item {
  version: string;
  /** Epoch ms of the computation and (exclusive) until which the entry equals a fresh one. */
  computedAt: number;
  validUntil: number;
}

export interface WorkspaceList {
  workspaces: PresentedWorkspace[];
  total: number;
  /** `{workspaces, total}` serialized: exactly JSON.stringify of the two fields above. */
  json: string;
  /** Weak ETag of `json`, derived from the entries' digests instead of hashing the whole text. */
  etag: string;
}

/** One workspace of step 1: id, list version, total of the page's query. */
export type StampTuple = [id: string, version: string | null, total: number];

/** Step 1's value: a cheap check of each tuple's three types. */
const isStampList = (value: unknown): value is StampTuple[] =>
  Array.isArray(value) &&
  value.every((t) => Array.isArray(t) && t.length === 3 && typeof t[0] === 'string' && (t[1] === null || typeof t[1] === 'string') && typeof t[2] === 'number');

type MemberJson = { id: string; userId: string; workspaceId: string; role: string; status: string; joinedAt: string; name: string; email: string };

interface EntryRow extends StatsColumns {
  id: string;
  name: string;
  description: string | null;
  ownerId: string;
  createdAt: Date | string;
  updatedAt: Date | string;
  version: string | null;
  total: number;
  members: string | MemberJson[];
  versions?: string | Record<string, string> | null;
}

const pageClause = (page: ListPage) => Prisma.sql`
  ORDER BY w."updated_at" DESC, w."id"
  LIMIT ${page.limit ?? null}::int OFFSET ${page.offset ?? 0}::int`;

/**
 * Step 1: the page's ids, newest update first, with their list versions and the total, as
 * one JSON value [[id, version, total], …] in page order, so it can ride along with the
 * authentication lookup. Its text never varies (values are parameters): a prepared statement.
 */
export const listStamps: Preload<StampTuple[], never, ListPage> = {
  name: 'workspace-list-stamps',
  check: isStampList,
  sql: ({ userId, query: page }) => Prisma.sql`
    SELECT coalesce(json_agg(json_build_array(s."id", s."version", s."total") ORDER BY s."ord"), '[]'::json)
      FROM (SELECT w."id", k."list_version"::text AS "version", (count(*) OVER ())::int AS "total",
                   row_number() OVER (ORDER BY w."updated_at" DESC, w."id") AS "ord"
              FROM "workspaces" w LEFT JOIN "workspace_counters" k ON k."workspace_id" = w."id"
             WHERE w."id" IN (${memberWorkspaceIds(userId)})
             ${pageClause(page)}) s`,
};

/** Workspace rows with members, stats and list version, in one statement. */
function entriesStatement(source: Prisma.Sql, now: Date, extra: Prisma.Sql = Prisma.empty) {
  return Prisma.sql`
    SELECT w."id", w."name", w."description", w."owner_id"::text AS "ownerId", w."created_at" AS "createdAt",
           w."updated_at" AS "updatedAt", w."total"::int AS "total", k."list_version"::text AS "version",
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

const WORKSPACE_COLUMNS = Prisma.sql`w."id", w."name", w."description", w."owner_id", w."created_at", w."updated_at"`;

/** The whole page computed in one statement (what the list is without a cache). */
const pageStatement = (userId: string, page: ListPage, now: Date) =>
  entriesStatement(
    Prisma.sql`SELECT ${WORKSPACE_COLUMNS}, count(*) OVER () AS "total" FROM "workspaces" w
                WHERE w."id" IN (${memberWorkspaceIds(userId)}) ${pageClause(page)}`,
    now,
  );

/** Step 3: the given workspaces computed, and the current versions of `check`, in one statement. */
const missesStatement = (ids: string[], check: string[], now: Date) =>
  entriesStatement(
    Prisma.sql`SELECT ${WORKSPACE_COLUMNS}, 0 AS "total" FROM "workspaces" w WHERE w."id" = ANY(${ids}::text[])`,
    now,
    Prisma.sql`, (SELECT json_object_agg(c."workspace_id", c."list_version"::text) FROM "workspace_counters" c
                  WHERE c."workspace_id" = ANY(${check}::text[])) AS "versions"`,
  );

const parseJson = <T>(value: string | T): T => (typeof value === 'string' ? (JSON.parse(value) as T) : value);

function presentRow(row: EntryRow): PresentedWorkspace {
  const members = parseJson(row.members).map((m) => ({
    ...m,
    joinedAt: new Date(m.joinedAt),
    user: { id: m.userId, name: m.name, email: m.email },
  }));
  return presentWorkspace({ ...row, createdAt: new Date(row.createdAt), updatedAt: new Date(row.updatedAt), members }, statsFromRow(row));
}

/** Entries are shared by every request that reads them: frozen so none can alter another's answer. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** The list from its items; the ETag hashes the items' digests and the total, which make up the whole text. */
function assemble(items: Item[], total: number): WorkspaceList {
  const json = `{"workspaces":[${items.map((i) => i.json).join(',')}],"total":${total}}`;
  const digest = createHash('sha1').update(`${items.map((i) => i.digest).join(',')}|${total}`).digest('base64').slice(0, 27);
  return { workspaces: items.map((i) => i.workspace), total, json, etag: `W/"${Buffer.byteLength(json).toString(16)}-${digest}"` };
}

/** Most recently used entries kept per instance (a few kB each). */
const DEFAULT_CAPACITY = 5000;

export class WorkspaceListCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly db: Pick<Database, 'query'>,
    private readonly capacity = DEFAULT_CAPACITY,
  ) {}

  /**
   * W1: the caller's workspaces, newest update first, with members and stats; the full list
   * unless paged (D21). `step1`: the page's stamps as `listStamps` read them.
   */
  async list(userId: string, page: ListPage, step1: StampTuple[]): Promise<WorkspaceList> {
    const now = new Date();
    const stamps = step1.map(([id, version, total]) => ({ id, version, total }));
    const total = stamps[0]?.total ?? (await this.emptyPageTotal(userId, page));
    const found = new Map<string, Item>();
    const missing: string[] = [];
    for (const { id, version } of stamps) {
      const entry = this.entries.get(id);
      const t = now.getTime();
      if (entry && version !== null && entry.version === version && entry.computedAt <= t && t < entry.validUntil) {
        found.set(id, entry);
        this.touch(id, entry);
      } else {
        missing.push(id);
      }
    }
    if (missing.length > 0) {
      const rows = await this.run<EntryRow>(missesStatement(missing, stamps.map((s) => s.id), now));
      const current = rows[0]?.versions ? parseJson(rows[0].versions) : null;
      const unchanged = rows.length === missing.length && current !== null && stamps.every((s) => (current[s.id] ?? null) === s.version);
      if (!unchanged) return this.computePage(userId, page, now);
      for (const row of rows) found.set(row.id, this.store(row, now));
    }
    return assemble(stamps.map((s) => found.get(s.id)!), total);
  }

  /** The page in one statement (a write raced the request): its rows refresh the cache. */
  private async computePage(userId: string, page: ListPage, now: Date) {
    const rows = await this.run<EntryRow>(pageStatement(userId, page, now));
    const items = rows.map((row) => this.store(row, now));
    return assemble(items, rows[0]?.total ?? (await this.emptyPageTotal(userId, page)));
  }

  private store(row: EntryRow, now: Date): Item {
    const workspace = deepFreeze(presentRow(row));
    const json = JSON.stringify(workspace);
    const item = { workspace, json, digest: createHash('sha1').update(json).digest('base64') };
    const validUntil = statsValidUntil(row);
    const computedAt = now.getTime();
    if (row.version !== null && computedAt < validUntil) this.touch(row.id, { ...item, version: row.version, computedAt, validUntil });
    return item;
  }

  /** Marks an entry most recently used and evicts the least recently used beyond capacity. */
  private touch(id: string, entry: Entry) {
    this.entries.delete(id);
    this.entries.set(id, entry);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  /** An empty page says nothing of the total: a page past the end counts separately. */
  private async emptyPageTotal(userId: string, page: ListPage) {
    if (page.limit === undefined && page.offset === undefined) return 0;
    const [row] = await this.run<{ n: number }>(Prisma.sql`SELECT count(DISTINCT v."workspace_id")::int AS "n" FROM (${memberWorkspaceIds(userId)}) v`);
    return row?.n ?? 0;
  }

  private run<T>(statement: Prisma.Sql) {
    return this.db.query<T>(statement.text, statement.values);
  }
}
