/**
 * Memories: every statement that reads or writes the `memories` table — the memory policy's
 * subject loader, the memory commands and lists, the search statements and the embedding
 * backlog's claims.
 */
import type { Database } from '../db/client.js';
import { type Memory, Prisma } from '../generated/prisma/client.js';
import { newId } from '../lib/ids.js';
import { roleIn, type UserRef } from './membership.js';
import { type ChildCursor, childrenById, columns, type Db, type RowOf } from './sql.js';
import { type Owners, ownedBy } from './workspaces.js';

/** The memory fields the API presents (§2.1), as raw statements select them. */
export const memoryColumns = columns('Memory', null, {
  id: 'id',
  workspaceId: 'workspace_id',
  title: 'title',
  content: 'content',
  snippet: 'snippet',
  tags: 'tags',
  metadata: 'metadata',
  version: 'version',
  embeddingStatus: 'embedding_status',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
});

export type MemoryRow = RowOf<typeof memoryColumns>;

/** The plain pool, for the statements search runs on every query. */
type Pool = Pick<Database, 'query'>;

/**
 * The memory policy's loader: the memory with the caller's role in its workspace, as one JSON
 * value (null when there is none). Raw: a fragment that rides along with the authentication
 * statement, and the membership rule is SQL.
 */
export const memorySubjectSql = (actorId: UserRef, memoryId: string) => Prisma.sql`
  SELECT json_build_object('id', m."id", 'workspaceId', m."workspace_id", 'role', ${roleIn(Prisma.sql`m."workspace_id"`, actorId)})
    FROM "memories" m WHERE m."id" = ${memoryId}`;

// --- Writes -------------------------------------------------------------------------------

export interface NewMemoryRow {
  workspaceId: string;
  authorId: string | null;
  title: string;
  content: string;
  snippet: string;
  tags: string[];
  metadata: Record<string, unknown>;
}

/** Inserts a memory under a new id, version 1 and status `pending` (the schema's defaults). */
export function insertMemory(db: Db, row: NewMemoryRow): Promise<Memory> {
  return db.memory.create({ data: { id: newId('memory'), ...row, metadata: row.metadata as Prisma.InputJsonValue } });
}

/**
 * Inserts the memories in one statement, as `insertMemory` would one by one: new ids, version 1,
 * status `pending`, and creation times a microsecond apart in the given order (lists by
 * creation show them as if written one after the other). The rows come back in that order.
 */
export async function insertMemories(db: Db, rows: NewMemoryRow[], now = new Date()): Promise<MemoryRow[]> {
  if (rows.length === 0) return [];
  const ids = rows.map(() => newId('memory'));
  // Each tag with the position of its memory: a list of lists does not fit one SQL array.
  const tagOwners = rows.flatMap((r, i) => r.tags.map(() => i + 1));
  // Raw: one multi-row INSERT whatever the batch size, with creation times a microsecond apart (a JavaScript date holds milliseconds).
  const inserted = await db.$queryRaw<MemoryRow[]>`
    INSERT INTO memories (id, workspace_id, author_id, title, content, snippet, tags, metadata, created_at, updated_at)
    SELECT n.id, n.workspace_id, n.author_id, n.title, n.content, n.snippet,
           ARRAY(SELECT t.tag FROM unnest(${tagOwners}::int[], ${rows.flatMap((r) => r.tags)}::text[]) WITH ORDINALITY AS t(owner, tag, ord)
                  WHERE t.owner = n.ord ORDER BY t.ord),
           n.metadata::jsonb, ${now}::timestamptz + (n.ord - 1) * interval '1 microsecond', ${now}::timestamptz + (n.ord - 1) * interval '1 microsecond'
      FROM unnest(${ids}::varchar[], ${rows.map((r) => r.workspaceId)}::varchar[], ${rows.map((r) => r.authorId)}::uuid[], ${rows.map((r) => r.title)}::varchar[],
                  ${rows.map((r) => r.content)}::text[], ${rows.map((r) => r.snippet)}::varchar[], ${rows.map((r) => JSON.stringify(r.metadata))}::text[])
           WITH ORDINALITY AS n(id, workspace_id, author_id, title, content, snippet, metadata, ord)
    RETURNING ${Prisma.raw(memoryColumns.sql)}`;
  const byId = new Map(inserted.map((m) => [m.id, m]));
  return ids.map((id) => byId.get(id)!);
}

/** Writes a deleted memory back under its id, at `version` and status `pending` (a restore from its history). */
export function reinsertMemory(db: Db, id: string, version: number, row: NewMemoryRow): Promise<Memory> {
  return db.memory.create({ data: { id, version, ...row, metadata: row.metadata as Prisma.InputJsonValue } });
}

/** The workspace the memory belongs to; null when there is no such memory. */
export async function memoryWorkspaceId(db: Db, id: string): Promise<string | null> {
  const memory = await db.memory.findUnique({ where: { id }, select: { workspaceId: true } });
  return memory?.workspaceId ?? null;
}

/** Which of `ids` are memories that exist. */
export async function existingMemoryIds(db: Db, ids: string[]): Promise<Set<string>> {
  const rows = await db.memory.findMany({ where: { id: { in: ids } }, select: { id: true } });
  return new Set(rows.map((row) => row.id));
}

export interface MemoryChanges {
  title?: string;
  content?: string;
  snippet?: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
}

/**
 * Applies `changes` and increments the version in SQL, so concurrent revisions never skip or
 * repeat one; `reembed` sets the memory pending again for the embedding backlog.
 */
export function reviseMemory(db: Db, id: string, changes: MemoryChanges, { reembed }: { reembed: boolean }): Promise<Memory> {
  const { metadata, ...fields } = changes;
  return db.memory.update({
    where: { id },
    data: {
      ...fields,
      ...(metadata !== undefined && { metadata: metadata as Prisma.InputJsonValue }),
      ...(reembed && { embeddingStatus: 'pending', embeddingError: null }),
      version: { increment: 1 },
    },
  });
}

/** Deletes the memory; its chunks and injection links cascade. */
export async function deleteMemoryRow(db: Db, id: string): Promise<void> {
  await db.memory.delete({ where: { id } });
}

/** Sets every memory of the workspace pending again; returns how many. */
export async function requeueWorkspaceMemories(db: Db, workspaceId: string): Promise<number> {
  const { count } = await db.memory.updateMany({ where: { workspaceId }, data: { embeddingStatus: 'pending', embeddingError: null } });
  return count;
}

// --- Reads --------------------------------------------------------------------------------

export function findMemory(db: Db, id: string): Promise<Memory | null> {
  return db.memory.findUnique({ where: { id } });
}

/** The orders a memory list comes in: title ascending, last edit or creation newest first. */
export type MemoryOrder = 'title' | 'updated' | 'created';

const ORDER_BY: Record<MemoryOrder, Prisma.MemoryOrderByWithRelationInput> = {
  title: { title: 'asc' },
  updated: { updatedAt: 'desc' },
  created: { createdAt: 'desc' },
};

const anyTag = (tags: string[] | undefined): Prisma.MemoryWhereInput => (tags?.length ? { tags: { hasSome: tags } } : {});

/** A page of a workspace's memories (with any of `tags`, when given) in `order`. */
export function workspaceMemories(db: Db, workspaceId: string, page: { order: MemoryOrder; tags?: string[]; offset?: number; limit?: number }): Promise<Memory[]> {
  return db.memory.findMany({ where: { workspaceId, ...anyTag(page.tags) }, orderBy: ORDER_BY[page.order], skip: page.offset, take: page.limit });
}

/** The same order in SQL, with the id breaking ties so that equal timestamps or titles keep one order. */
const ORDER_SQL: Record<MemoryOrder, string> = {
  title: 'title ASC, id ASC',
  updated: 'updated_at DESC, id DESC',
  created: 'created_at DESC, id DESC',
};

/**
 * One memory of the list in serialized parts: the fields before and after `embedding` and
 * `metadata`, which the presenter fills in (presenters/memory.ts presentMemoryText).
 */
export interface MemoryTextRow {
  id: string;
  embeddingStatus: string;
  /** `{"id":…,"workspaceId":…,"title":…,"content":…,"snippet":…,"tags":[…],"embedding":` */
  head: string;
  /** The stored metadata as jsonb prints it. */
  metadata: string;
  /** `,"version":…,"createdAt":…,"updatedAt":…}` */
  tail: string;
}

/** A timestamp as Date.prototype.toISOString writes it (both truncate to the millisecond). */
const iso = (column: string) => `to_json(to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text`;

/**
 * A page of a workspace's memories (with any of `tags`, when given) in `order`, as the list
 * (M1) presents them: the presented fields serialized by PostgreSQL, in the bytes
 * JSON.stringify gives them (to_json escapes strings as it does; tests/http/memory-list-text.test.ts
 * pins the equality on both storages). Raw, on the plain pool: at 50,000 memories, decoding
 * eleven columns a row and serializing them again cost more than half of the whole list's
 * server time (bench `polled-lists`); one text column a row costs a fraction of it.
 */
export function workspaceMemoryTexts(db: Pool, workspaceId: string, page: { order: MemoryOrder; tags?: string[]; offset?: number; limit?: number }): Promise<MemoryTextRow[]> {
  return db.query<MemoryTextRow>(
    `SELECT ${MEMORY_TEXT_COLUMNS}
       FROM memories WHERE workspace_id = $1 AND ($2::text[] IS NULL OR tags && $2::text[])
      ORDER BY ${ORDER_SQL[page.order]} LIMIT $3::int OFFSET $4::int`,
    [workspaceId, page.tags?.length ? page.tags : null, page.limit ?? null, page.offset ?? 0],
  );
}

/** The serialized parts of MemoryTextRow, from `memories` (no alias). */
const MEMORY_TEXT_COLUMNS = `id, embedding_status AS "embeddingStatus", metadata::text AS metadata,
            '{"id":' || to_json(id)::text || ',"workspaceId":' || to_json(workspace_id)::text || ',"title":' || to_json(title)::text
              || ',"content":' || to_json(content)::text || ',"snippet":' || to_json(snippet)::text || ',"tags":' || array_to_json(tags)::text
              || ',"embedding":' AS head,
            ',"version":' || version::text || ',"createdAt":' || ${iso('created_at')} || ',"updatedAt":' || ${iso('updated_at')} || '}' AS tail`;

/**
 * The row stamp of a memory: its row version's transaction id (`xmin`), which changes with
 * every write to the row, in the transaction of the write. Everything the list shows of a
 * memory is in its row, except the first chunk's vector, and chunks are only ever stored in
 * the transaction that marks the memory embedded (claimEmbedded), which writes the row too.
 */
const ROW_STAMP = 'memories.xmin::text';

/**
 * The whole list's memories (with any of `tags`, when given) in `order`, each as its id and
 * row stamp: `id stamp` pairs, one per line, in one text. Raw: a system column, and one text
 * of 50,000 lines decodes in a fraction of the time of 50,000 rows.
 */
export async function workspaceMemoryStamps(db: Pool, workspaceId: string, page: { order: MemoryOrder; tags?: string[] }): Promise<{ id: string; stamp: string }[]> {
  const [row] = await db.query<{ list: string | null }>(
    `SELECT string_agg(id || ' ' || ${ROW_STAMP}, E'\\n' ORDER BY ${ORDER_SQL[page.order]}) AS list
       FROM memories WHERE workspace_id = $1 AND ($2::text[] IS NULL OR tags && $2::text[])`,
    [workspaceId, page.tags?.length ? page.tags : null],
  );
  if (!row?.list) return [];
  return row.list.split('\n').map((line) => {
    const space = line.lastIndexOf(' ');
    return { id: line.slice(0, space), stamp: line.slice(space + 1) };
  });
}

/** MemoryTextRow with its row stamp and its first chunk's vector (null until embedded). */
export interface StampedMemoryText extends MemoryTextRow {
  stamp: string;
  vector: Uint8Array | null;
}

/**
 * These memories (any order) as the list serializes them, each with its row stamp and first
 * chunk's vector, read together in one statement so that the three describe one state.
 * Raw: a system column and a lateral probe of the first chunk.
 */
export function memoryTextsByIds(db: Pool, ids: string[]): Promise<StampedMemoryText[]> {
  return db.query<StampedMemoryText>(
    `SELECT ${MEMORY_TEXT_COLUMNS}, ${ROW_STAMP} AS stamp, c.vector
       FROM memories
       LEFT JOIN LATERAL (SELECT vector FROM memory_chunks WHERE memory_id = memories.id AND chunk_index = 0) c ON embedding_status = 'ready'
      WHERE id = ANY($1::varchar[])`,
    [ids],
  );
}

/** How many memories the workspace holds (with any of `tags`, when given). */
export function countWorkspaceMemories(db: Db, workspaceId: string, tags?: string[]): Promise<number> {
  return db.memory.count({ where: { workspaceId, ...anyTag(tags) } });
}

/** The workspace's memories whose title or content contains `text` (case-insensitive), last edited first. */
export function memoriesContaining(db: Db, workspaceId: string, text: string, o: { tags?: string[]; limit: number }): Promise<Memory[]> {
  return db.memory.findMany({
    where: {
      workspaceId,
      ...anyTag(o.tags),
      OR: [{ title: { contains: text, mode: 'insensitive' } }, { content: { contains: text, mode: 'insensitive' } }],
    },
    orderBy: ORDER_BY.updated,
    take: o.limit,
  });
}

/** The last edited memories of these workspaces (with any of `tags`, when given). */
export function recentMemories(db: Db, workspaceIds: string[], limit: number, tags?: string[]): Promise<Memory[]> {
  return db.memory.findMany({ where: { workspaceId: { in: workspaceIds }, ...anyTag(tags) }, orderBy: ORDER_BY.updated, take: limit });
}

/** How many of the workspace's memories are in each embedding status. */
export async function embeddingStatusCounts(db: Db, workspaceId: string): Promise<Map<string, number>> {
  const groups = await db.memory.groupBy({ by: ['embeddingStatus'], where: { workspaceId }, _count: { _all: true } });
  return new Map(groups.map((g) => [g.embeddingStatus, g._count._all]));
}

// --- Search -------------------------------------------------------------------------------

/**
 * Ids of the memories that match the full-text query, best first, with OR semantics (any
 * term may match; more matches rank higher): websearch_to_tsquery never fails on user input,
 * and its `&` operators become `|`. `search_vector` is a stored generated column with a GIN
 * index (see its migration).
 */
export async function fullTextMatches(db: Pool, workspaceIds: string[], query: string, limit: number, tags?: string[]): Promise<string[]> {
  // Raw, on the plain pool: tsvector ranking, on the search hot path (bench `memories`).
  const terms = fullTextTerms(query);
  const rows = await db.query<Pick<Memory, 'id'>>(
    `SELECT m.id
     FROM memories m,
          (SELECT replace(websearch_to_tsquery('english', $1)::text, '&', '|')::tsquery AS q) t
     WHERE m.workspace_id = ANY($2::varchar[])
       AND m.search_vector @@ t.q
       ${tags ? 'AND m.tags && $4::text[]' : ''}
     ORDER BY ts_rank(m.search_vector, t.q) DESC, m.updated_at DESC
     LIMIT $3`,
    tags ? [terms, workspaceIds, limit, tags] : [terms, workspaceIds, limit],
  );
  return rows.map((r) => r.id);
}

/** The most distinct words of a query that the full-text side uses. */
export const MAX_FULL_TEXT_TERMS = 64;

/**
 * The query's first MAX_FULL_TEXT_TERMS distinct words (case-insensitive), in order. PostgreSQL
 * evaluates a tsquery recursively: one of 20,000 terms (a long pasted text) exceeded its stack
 * depth and failed the search with a 500.
 */
export function fullTextTerms(query: string): string {
  const words: string[] = [];
  const seen = new Set<string>();
  for (const word of query.split(/\s+/)) {
    const key = word.toLowerCase();
    if (!word || seen.has(key)) continue;
    seen.add(key);
    words.push(word);
    if (words.length === MAX_FULL_TEXT_TERMS) break;
  }
  return words.join(' ');
}

/** Ids of the memories of these workspaces that carry any of `tags`. */
export async function taggedMemoryIds(db: Pool, workspaceIds: string[], tags: string[]): Promise<string[]> {
  // Plain pool: search hot path (bench `memories`).
  const rows = await db.query<Pick<Memory, 'id'>>('SELECT id FROM memories WHERE workspace_id = ANY($1::varchar[]) AND tags && $2::text[]', [workspaceIds, tags]);
  return rows.map((r) => r.id);
}

/** The memories with these ids (in no particular order; ids without a row are skipped). */
export function memoriesByIds(db: Pool, ids: string[]): Promise<MemoryRow[]> {
  // Plain pool: search hot path (bench `memories`).
  return db.query<MemoryRow>(`SELECT ${memoryColumns.sql} FROM memories WHERE id = ANY($1::varchar[])`, [ids]);
}

// --- Embedding backlog --------------------------------------------------------------------

/** A memory the backlog embeds: what identifies it and the text its vectors are made from. */
export type BacklogMemory = Pick<Memory, 'id' | 'workspaceId' | 'title' | 'content'>;

/** Rows that need (re-)embedding under `modelId`: pending, or ready under another model. */
const backlogWhere = (modelId: string | null): Prisma.MemoryWhereInput =>
  modelId
    ? { OR: [{ embeddingStatus: 'pending' }, { embeddingStatus: 'ready', NOT: { embeddingModel: modelId } }] }
    : { embeddingStatus: 'pending' };

/** The same condition in SQL, on the columns of table alias `alias`. */
const inBacklog = (alias: string, modelId: string) => {
  const m = Prisma.raw(alias);
  return Prisma.sql`(${m}.embedding_status = 'pending' OR (${m}.embedding_status = 'ready' AND ${m}.embedding_model <> ${modelId}))`;
};

export function countBacklog(db: Db, modelId: string | null): Promise<number> {
  return db.memory.count({ where: backlogWhere(modelId) });
}

/** The longest-waiting memories that need embedding under `modelId`. */
export function backlogBatch(db: Db, modelId: string, size: number): Promise<BacklogMemory[]> {
  return db.memory.findMany({ where: backlogWhere(modelId), orderBy: { updatedAt: 'asc' }, take: size, select: { id: true, workspaceId: true, title: true, content: true } });
}

/**
 * Marks these memories embedded under `modelId`, skipping any whose text changed since it was
 * read or that another sweeper finished meanwhile; returns the ids it marked.
 */
export async function claimEmbedded(db: Db, modelId: string, memories: BacklogMemory[]): Promise<string[]> {
  // Raw: Prisma's update would bump updated_at (storing vectors is not an edit), and this
  // compares every row with the text it was embedded from in one statement.
  const claimed = await db.$queryRaw<Pick<Memory, 'id'>[]>`UPDATE memories m
    SET embedding_status = 'ready', embedding_model = ${modelId}, embedding_error = NULL, embedded_at = now()
    FROM unnest(${memories.map((m) => m.id)}::varchar[], ${memories.map((m) => m.title)}::varchar[], ${memories.map((m) => m.content)}::text[]) AS c(id, title, content)
    WHERE m.id = c.id AND m.title = c.title AND m.content = c.content AND ${inBacklog('m', modelId)}
    RETURNING m.id`;
  return claimed.map((c) => c.id);
}

/** Marks the memory failed, unless its text changed since it was read or another sweeper finished it. */
export async function markEmbeddingFailed(db: Db, memory: BacklogMemory, modelId: string, message: string): Promise<void> {
  // Raw: Prisma's update would bump updated_at (a failed embedding is not an edit).
  await db.$executeRaw`UPDATE memories m SET embedding_status = 'failed', embedding_error = ${message}
    WHERE m.id = ${memory.id} AND m.title = ${memory.title} AND m.content = ${memory.content} AND ${inBacklog('m', modelId)}`;
}

/**
 * The memories of these workspaces, in the list's order and then by id, `take` after `after`
 * (the export's pages). Raw: one statement for a whole list of workspaces (childrenById).
 */
export const memoriesOfWorkspaces = (db: Db, workspaceIds: string[], after: ChildCursor | null, take: number): Promise<MemoryRow[]> =>
  db.$queryRaw<MemoryRow[]>(childrenById('memories', 'workspace_id', memoryColumns, workspaceIds, after, take));

/** Deletes the memories of `owners` not updated since `cutoff` (retention): how many, and from which workspaces. */
export async function deleteMemoriesBefore(db: Db, owners: Owners, cutoff: Date): Promise<{ count: number; workspaceIds: string[] }> {
  const where = { workspace: ownedBy(owners), updatedAt: { lt: cutoff } } satisfies Prisma.MemoryWhereInput;
  const groups = await db.memory.groupBy({ by: ['workspaceId'], where });
  const { count } = await db.memory.deleteMany({ where });
  return { count, workspaceIds: groups.map((g) => g.workspaceId) };
}
