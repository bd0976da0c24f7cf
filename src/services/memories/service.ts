/**
 * Memory commands and queries (M1–M6). Writes never wait on the model: they leave the
 * memory `pending` and nudge the embedding backlog (D4). `version` is incremented in SQL,
 * so concurrent updates never skip or repeat a version.
 */
import {
  countWorkspaceMemories,
  deleteMemoryRow,
  findMemory,
  insertMemory,
  type MemoryOrder,
  type MemoryRow,
  memoriesContaining,
  reviseMemory,
  workspaceMemories,
} from '../../data/memories.js';
import { firstChunkVectors } from '../../data/memory-chunks.js';
import type { Db } from '../../data/sql.js';
import type { Database, PrismaClient } from '../../db/client.js';
import { notFound } from '../../lib/errors.js';
import { snippetOf } from '../../lib/snippet.js';
import { bytesToVector } from '../../lib/vectors.js';
import { logActivity } from '../activity.js';
import { type SearchEngine, searchMemories } from './search.js';

/** What a write that leaves a memory pending tells: the embedding backlog (EmbeddingService). */
export interface Backlog {
  nudge(): void;
}

export interface NewMemory {
  workspaceId: string;
  authorId: string | null;
  title: string;
  content: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
}

/**
 * The one way a memory row is written, inside the caller's transaction: snippet (§5.4),
 * version 1, the author, status `pending` (the embedding backlog picks up every pending row),
 * and the `memory_created` activity unless told not to (mcp/remember and close summaries, §5.3).
 */
export async function insertMemoryTx(tx: Db, input: NewMemory, { activity = true } = {}) {
  const row = await insertMemory(tx, {
    workspaceId: input.workspaceId,
    authorId: input.authorId,
    title: input.title,
    content: input.content,
    snippet: snippetOf(input.content),
    tags: input.tags ?? [],
    metadata: input.metadata ?? {},
  });
  if (activity) await logActivity(tx, row.workspaceId, 'memory_created', `Memory '${row.title}' created`, { memoryId: row.id, memoryTitle: row.title });
  return row;
}

/** Creates a memory in its own transaction and wakes the embedding backlog. */
export async function createMemory(db: PrismaClient, backlog: Backlog, input: NewMemory, options: { activity?: boolean } = {}) {
  const memory = await db.$transaction((tx) => insertMemoryTx(tx, input, options));
  backlog.nudge();
  return memory;
}

export interface MemoryPatch {
  title?: string;
  content?: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
}

/** One memory (M3, M4), or 404: it may have gone since its policy check. */
export async function getMemory(db: Db, id: string): Promise<MemoryRow> {
  const memory = await findMemory(db, id);
  if (!memory) throw notFound('Memory not found');
  return memory;
}

/** M4: applies the given fields; version +1 always; a changed text is re-embedded. */
export async function updateMemory(db: Db, backlog: Backlog, current: MemoryRow, patch: MemoryPatch) {
  const contentChanged = patch.content !== undefined && patch.content !== current.content;
  const textChanged = contentChanged || (patch.title !== undefined && patch.title !== current.title);
  const memory = await reviseMemory(db, current.id, { ...patch, ...(contentChanged && { snippet: snippetOf(patch.content!) }) }, { reembed: textChanged });
  if (textChanged) backlog.nudge();
  return memory;
}

/** M6: queues a real recomputation of the vectors; version +1 and updatedAt bumped. */
export async function reEmbedMemory(db: Db, backlog: Backlog, id: string) {
  const memory = await reviseMemory(db, id, {}, { reembed: true });
  backlog.nudge();
  return memory;
}

/**
 * M5: deletes the memory; its chunks and injection links cascade, and the chunks' delete
 * logs the change for every loaded vector index (the memory_chunks trigger).
 */
export async function deleteMemory(db: PrismaClient, memory: { id: string; workspaceId: string }) {
  await deleteMemoryRow(db, memory.id);
}

/** The first chunk's vector of each ready memory, in one query. */
export async function firstVectors(db: Db, memories: Pick<MemoryRow, 'id' | 'embeddingStatus'>[]): Promise<Map<string, Float32Array>> {
  const ids = memories.filter((m) => m.embeddingStatus === 'ready').map((m) => m.id);
  if (ids.length === 0) return new Map();
  const chunks = await firstChunkVectors(db, ids);
  return new Map(chunks.map((c) => [c.memoryId, bytesToVector(c.vector)]));
}

export interface ListOptions {
  workspaceId: string;
  userId: string;
  search?: string;
  sortBy?: string;
  tags?: string[];
  limit?: number;
  offset?: number;
}

/** Most matches a list search considers (the list shape has no top_k). */
const LIST_SEARCH_LIMIT = 1000;

/**
 * M1. Without `search`: every memory (optionally tag-filtered), sorted per `sortBy`.
 * With `search`: the hybrid engine's matches plus case-insensitive substring matches (what
 * the frontend re-filters on), `sortBy=relevance` ranking by the engine's score.
 */
export async function listMemories(db: Database, engine: SearchEngine, o: ListOptions): Promise<{ memories: MemoryRow[]; total: number }> {
  const order = orderFor(o.sortBy);
  const search = o.search?.trim();
  if (!search) {
    const [memories, total] = await Promise.all([
      workspaceMemories(db.prisma, o.workspaceId, { order: order ?? 'created', tags: o.tags, offset: o.offset, limit: o.limit }),
      countWorkspaceMemories(db.prisma, o.workspaceId, o.tags),
    ]);
    return { memories, total };
  }
  const [ranked, substring] = await Promise.all([
    searchMemories(db, engine, { userId: o.userId, workspaceIds: [o.workspaceId], query: search, topK: LIST_SEARCH_LIMIT, tags: o.tags }),
    memoriesContaining(db.prisma, o.workspaceId, search, { tags: o.tags, limit: LIST_SEARCH_LIMIT }),
  ]);
  const byId = new Map<string, MemoryRow>();
  for (const hit of ranked.results) byId.set(hit.memory.id, hit.memory);
  for (const m of substring) if (!byId.has(m.id)) byId.set(m.id, m);
  let memories = [...byId.values()];
  if (order) memories = sortRows(memories, order);
  const page = memories.slice(o.offset ?? 0, o.limit === undefined ? undefined : (o.offset ?? 0) + o.limit);
  return { memories: page, total: memories.length };
}

/** §2.6 sortBy: title ascending; recent (or absent) updatedAt descending; relevance with a search ranks by score (null); else createdAt descending. */
function orderFor(sortBy: string | undefined): MemoryOrder | null {
  if (sortBy === 'title') return 'title';
  if (sortBy === undefined || sortBy === 'recent') return 'updated';
  if (sortBy === 'relevance') return null;
  return 'created';
}

/** The merged search matches in `order`, as the database would sort them. */
function sortRows(rows: MemoryRow[], order: MemoryOrder): MemoryRow[] {
  if (order === 'title') return rows.sort((a, b) => (a.title < b.title ? -1 : a.title > b.title ? 1 : 0));
  if (order === 'updated') return rows.sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime());
  return rows.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
}
