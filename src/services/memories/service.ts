/**
 * Memory commands and queries (M1–M6). Writes never wait on the model: they leave the
 * memory `pending` and nudge the embedding backlog (D4). `version` is incremented in SQL,
 * so concurrent updates never skip or repeat a version. Every change of a memory's text is
 * recorded as a version of its history, with its provenance (services/memories/versions.ts).
 */
import type { DeflatedPiece } from '../../fast/gzip-pieces.js';
import type { MemoryListPieces } from './list-pieces.js';
import {
  countWorkspaceMemories,
  deleteMemoryRow,
  findMemory,
  insertMemories,
  insertMemory,
  type MemoryOrder,
  type MemoryRow,
  memoriesContaining,
  type NewMemoryRow,
  reviseMemory,
  type MemoryTextRow,
  workspaceMemoryTexts,
} from '../../data/memories.js';
import { firstChunkVectors } from '../../data/memory-chunks.js';
import { deleteVersionsOf, insertVersion, insertVersions, type MemoryAction, type NewVersionRow } from '../../data/memory-versions.js';
import type { Db } from '../../data/sql.js';
import type { Database, PrismaClient } from '../../db/client.js';
import type { Memory } from '../../generated/prisma/client.js';
import { notFound } from '../../lib/errors.js';
import { snippetOf } from '../../lib/snippet.js';
import { bytesToVector } from '../../lib/vectors.js';
import { logActivity } from '../activity.js';
import { type SearchEngine, searchMemories } from './search.js';
import type { Provenance } from './versions.js';

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
  /** Where the memory comes from: its history's first version records it. */
  provenance: Provenance;
}

/** Records the memory's state as the version it is now at. */
export async function recordVersion(tx: Db, memory: Memory, action: MemoryAction, provenance: Provenance, version = memory.version) {
  await insertVersion(tx, versionRowOf(memory, action, provenance, version));
}

const versionRowOf = (memory: Memory, action: MemoryAction, provenance: Provenance, version = memory.version): NewVersionRow => ({
  memoryId: memory.id, workspaceId: memory.workspaceId, version, action, title: memory.title, content: memory.content, tags: memory.tags,
  metadata: memory.metadata as Record<string, unknown>, provenance: { ...provenance },
});

/** The row a new memory is stored as: its snippet (§5.4), no tags and empty metadata unless given. */
const memoryRowOf = (input: NewMemory): NewMemoryRow => ({
  workspaceId: input.workspaceId,
  authorId: input.authorId,
  title: input.title,
  content: input.content,
  snippet: snippetOf(input.content),
  tags: input.tags ?? [],
  metadata: input.metadata ?? {},
});

/**
 * The one way a memory row is written, inside the caller's transaction: snippet (§5.4),
 * version 1, the author, status `pending` (the embedding backlog picks up every pending row),
 * and the `memory_created` activity unless told not to (mcp/remember and close summaries, §5.3).
 */
export async function insertMemoryTx(tx: Db, input: NewMemory, { activity = true } = {}) {
  const row = await insertMemory(tx, memoryRowOf(input));
  await recordVersion(tx, row, 'ADD', input.provenance);
  if (activity) await logActivity(tx, row.workspaceId, 'memory_created', `Memory '${row.title}' created`, { memoryId: row.id, memoryTitle: row.title });
  return row;
}

/** Creates a memory in its own transaction and wakes the embedding backlog. */
export async function createMemory(db: PrismaClient, backlog: Backlog, input: NewMemory, options: { activity?: boolean } = {}) {
  const memory = await db.$transaction((tx) => insertMemoryTx(tx, input, options));
  backlog.nudge();
  return memory;
}

/**
 * Creates the memories in one statement, whatever their number, as `createMemory` would one by
 * one with no activity (the tools' batch, §5.3), and wakes the embedding backlog once.
 */
export async function createMemories(db: PrismaClient, backlog: Backlog, inputs: NewMemory[]): Promise<MemoryRow[]> {
  const memories = await db.$transaction(async (tx) => {
    const rows = await insertMemories(tx, inputs.map(memoryRowOf));
    await insertVersions(tx, rows.map((row, i) => versionRowOf(row as Memory, 'ADD', inputs[i]!.provenance)));
    return rows;
  });
  backlog.nudge();
  return memories;
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

/**
 * Applies the given fields (version +1, a changed text re-embedded) and records the new
 * version, inside the caller's transaction. Returns the row and whether its text changed.
 */
export async function reviseMemoryTx(tx: Db, current: Pick<MemoryRow, 'id' | 'title' | 'content'>, patch: MemoryPatch, action: MemoryAction, provenance: Provenance) {
  const contentChanged = patch.content !== undefined && patch.content !== current.content;
  const textChanged = contentChanged || (patch.title !== undefined && patch.title !== current.title);
  const memory = await reviseMemory(tx, current.id, { ...patch, ...(contentChanged && { snippet: snippetOf(patch.content!) }) }, { reembed: textChanged });
  await recordVersion(tx, memory, action, provenance);
  return { memory, textChanged };
}

/** M4: applies the given fields; version +1 always, recorded with the editing user; a changed text is re-embedded. */
export async function updateMemory(db: PrismaClient, backlog: Backlog, current: MemoryRow, patch: MemoryPatch, editor: { id: string }) {
  const { memory, textChanged } = await db.$transaction((tx) => reviseMemoryTx(tx, current, patch, 'EDIT', { source: 'user', userId: editor.id }));
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
 * M5: deletes the memory for good, its history too; its chunks and injection links cascade,
 * and the chunks' delete logs the change for every loaded vector index (the memory_chunks trigger).
 */
export async function deleteMemory(db: PrismaClient, memory: { id: string; workspaceId: string }) {
  await db.$transaction(async (tx) => {
    await deleteMemoryRow(tx, memory.id);
    await deleteVersionsOf(tx, memory.id);
  });
}

/**
 * A soft deletion (consolidation): the memory's last state is kept as a DELETE version of its
 * history, restorable from there until retention sweeps it; the row goes as in M5.
 */
export async function softDeleteMemoryTx(tx: Db, memory: Memory, provenance: Provenance) {
  await recordVersion(tx, memory, 'DELETE', provenance, memory.version + 1);
  await deleteMemoryRow(tx, memory.id);
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
 * M1 without `search`: every memory (optionally tag-filtered), sorted per `sortBy`, each in
 * the serialized parts the presenter completes (the whole list is the polled default, D21).
 */
export async function listMemoryTexts(db: Database, o: Omit<ListOptions, 'search' | 'userId'>): Promise<{ memories: MemoryTextRow[]; total: number }> {
  const paged = o.limit !== undefined || o.offset !== undefined;
  const [memories, total] = await Promise.all([
    workspaceMemoryTexts(db, o.workspaceId, { order: orderFor(o.sortBy) ?? 'created', tags: o.tags, offset: o.offset, limit: o.limit }),
    paged ? countWorkspaceMemories(db.prisma, o.workspaceId, o.tags) : null,
  ]);
  // The whole list counts itself.
  return { memories, total: total ?? memories.length };
}

/**
 * M1's whole list (no `limit` or `offset`: the polled default) as the deflated pieces kept
 * between polls (list-pieces.ts); null where the caller builds the text whole.
 */
export function memoryListPieces(pieces: MemoryListPieces, o: Omit<ListOptions, 'search' | 'userId'>): Promise<DeflatedPiece[] | null> {
  if (o.limit !== undefined || o.offset !== undefined) return Promise.resolve(null);
  return pieces.list(o.workspaceId, { order: orderFor(o.sortBy) ?? 'created', tags: o.tags });
}

/**
 * M1 with `search`: the hybrid engine's matches plus case-insensitive substring matches (what
 * the frontend re-filters on), `sortBy=relevance` ranking by the engine's score.
 */
export async function searchMemoryList(db: Database, engine: SearchEngine, o: ListOptions & { search: string }): Promise<{ memories: MemoryRow[]; total: number }> {
  const order = orderFor(o.sortBy);
  const search = o.search.trim();
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
