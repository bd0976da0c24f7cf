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
 *
 * An entry keeps what the route sends of a workspace: the route gives the function that
 * presents one (`render`), the cache keeps its result and serialized text, so an unchanged
 * workspace is neither recomputed nor serialized again. The statements are data/workspaces.ts.
 */
import { createHash } from 'node:crypto';
import {
  countMemberWorkspaces,
  isStampList,
  type ListedWorkspace,
  type ListPage,
  listPage,
  listSome,
  listStampsSql,
  type StampTuple,
} from '../data/workspaces.js';
import type { Database } from '../db/client.js';
import type { WorkspaceLimit } from '../data/membership.js';
import type { Preload } from '../data/sessions.js';

/** A rendered workspace with its serialized form and that form's digest. */
interface Item<T> {
  workspace: T;
  json: string;
  digest: string;
}

interface Entry<T> extends Item<T> {
  version: string;
  /** Epoch ms of the computation and (exclusive) until which the entry equals a fresh one. */
  computedAt: number;
  validUntil: number;
}

export interface WorkspaceList<T> {
  workspaces: T[];
  total: number;
  /** `{workspaces, total}` serialized: exactly JSON.stringify of the two fields above. */
  json: string;
  /** Weak ETag of `json`, derived from the entries' digests instead of hashing the whole text. */
  etag: string;
}

/** Step 1, riding along with the authentication lookup: the page's stamps (data/workspaces.ts). */
export const listStamps: Preload<StampTuple[], never, ListPage> = {
  name: 'workspace-list-stamps',
  check: isStampList,
  sql: ({ userId, limit, query: page }) => listStampsSql(userId, page, limit ?? null),
};

/** Entries are shared by every request that reads them: frozen so none can alter another's answer. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** The list from its items; the ETag hashes the items' digests and the total, which make up the whole text. */
function assemble<T>(items: Item<T>[], total: number): WorkspaceList<T> {
  const json = `{"workspaces":[${items.map((i) => i.json).join(',')}],"total":${total}}`;
  const digest = createHash('sha1').update(`${items.map((i) => i.digest).join(',')}|${total}`).digest('base64').slice(0, 27);
  return { workspaces: items.map((i) => i.workspace), total, json, etag: `W/"${Buffer.byteLength(json).toString(16)}-${digest}"` };
}

/** Most recently used entries kept per instance (a few kB each). */
const DEFAULT_CAPACITY = 5000;

export class WorkspaceListCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  /** `render`: what the list shows of one workspace (the route's presenter). */
  constructor(
    private readonly db: Pick<Database, 'query'>,
    private readonly render: (listed: ListedWorkspace) => T,
    private readonly capacity = DEFAULT_CAPACITY,
  ) {}

  /**
   * W1: the caller's workspaces (inside `limit`, an API key's workspaces), newest update first,
   * with members and stats; the full list unless paged (D21). `step1`: the page's stamps as
   * `listStamps` read them.
   */
  async list(userId: string, page: ListPage, step1: StampTuple[], limit: WorkspaceLimit = null): Promise<WorkspaceList<T>> {
    const now = new Date();
    const stamps = step1.map(([id, version, total]) => ({ id, version, total }));
    const total = stamps[0]?.total ?? (await this.emptyPageTotal(userId, limit, page));
    const found = new Map<string, Item<T>>();
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
      const { workspaces, versions } = await listSome(this.db, missing, stamps.map((s) => s.id), now);
      const unchanged = workspaces.length === missing.length && versions !== null && stamps.every((s) => (versions[s.id] ?? null) === s.version);
      if (!unchanged) return this.computePage(userId, limit, page, now);
      for (const listed of workspaces) found.set(listed.workspace.id, this.store(listed, now));
    }
    return assemble(stamps.map((s) => found.get(s.id)!), total);
  }

  /** The page in one statement (a write raced the request): its rows refresh the cache. */
  private async computePage(userId: string, limit: WorkspaceLimit, page: ListPage, now: Date) {
    const { workspaces, total } = await listPage(this.db, userId, limit, page, now);
    const items = workspaces.map((listed) => this.store(listed, now));
    return assemble(items, total ?? (await this.emptyPageTotal(userId, limit, page)));
  }

  private store(listed: ListedWorkspace, now: Date): Item<T> {
    const workspace = deepFreeze(this.render(listed));
    const json = JSON.stringify(workspace);
    const item = { workspace, json, digest: createHash('sha1').update(json).digest('base64') };
    const computedAt = now.getTime();
    const { version, validUntil } = listed;
    if (version !== null && computedAt < validUntil) this.touch(listed.workspace.id, { ...item, version, computedAt, validUntil });
    return item;
  }

  /** Marks an entry most recently used and evicts the least recently used beyond capacity. */
  private touch(id: string, entry: Entry<T>) {
    this.entries.delete(id);
    this.entries.set(id, entry);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  /** An empty page says nothing of the total: a page past the end counts separately. */
  private async emptyPageTotal(userId: string, limit: WorkspaceLimit, page: ListPage) {
    if (page.limit === undefined && page.offset === undefined) return 0;
    return countMemberWorkspaces(this.db, userId, limit);
  }
}
