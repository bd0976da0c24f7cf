/**
 * Memory commands and queries (M1–M6). Writes never wait on the model: they leave the
 * memory `pending` and nudge the embedding backlog (D4). `version` is incremented in SQL,
 * so concurrent updates never skip or repeat a version.
 */
import type { AppDeps } from '../../app-deps.js';
import type { PrismaClient } from '../../db/client.js';
import { Prisma } from '../../generated/prisma/client.js';
import { notFound } from '../../http/errors.js';
import { newId } from '../../lib/ids.js';
import type { MemoryRow } from '../../presenters/memory.js';
import { presentMemory } from '../../presenters/memory.js';
import { logActivity } from '../activity.js';
import { bumpIndexStamp } from '../embeddings/backlog.js';
import { bytesToVector } from '../embeddings/vectors.js';
import { searchMemories } from './search.js';

const SNIPPET_LENGTH = 150;

/**
 * §5.4: the first 150 characters (code points, as Python counts) plus "..." when longer.
 * Reads only as far as it needs: an imported document's content can be megabytes long.
 */
export function snippetOf(content: string): string {
  let end = 0;
  let count = 0;
  for (const char of content) {
    if (count === SNIPPET_LENGTH) return `${content.slice(0, end)}...`;
    end += char.length;
    count++;
  }
  return content;
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
export async function insertMemoryTx(tx: Prisma.TransactionClient, input: NewMemory, { activity = true } = {}) {
  const row = await tx.memory.create({
    data: {
      id: newId('memory'),
      workspaceId: input.workspaceId,
      authorId: input.authorId,
      title: input.title,
      content: input.content,
      snippet: snippetOf(input.content),
      tags: input.tags ?? [],
      metadata: (input.metadata ?? {}) as Prisma.InputJsonValue,
    },
  });
  if (activity) await logActivity(tx, row.workspaceId, 'memory_created', `Memory '${row.title}' created`, { memoryId: row.id, memoryTitle: row.title });
  return row;
}

/** Creates a memory in its own transaction and wakes the embedding backlog. */
export async function createMemory(deps: AppDeps, input: NewMemory, options: { activity?: boolean } = {}) {
  const memory = await deps.prisma.$transaction((tx) => insertMemoryTx(tx, input, options));
  deps.embeddings.nudge();
  return memory;
}

export interface MemoryPatch {
  title?: string;
  content?: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
}

/** One memory (M3, M4), or 404: it may have gone since its policy check. */
export async function getMemory(prisma: PrismaClient, id: string): Promise<MemoryRow> {
  const memory = await prisma.memory.findUnique({ where: { id } });
  if (!memory) throw notFound('Memory not found');
  return memory;
}

/** M4: applies the given fields; version +1 always; a changed text is re-embedded. */
export async function updateMemory(deps: AppDeps, current: MemoryRow, patch: MemoryPatch) {
  const contentChanged = patch.content !== undefined && patch.content !== current.content;
  const textChanged = contentChanged || (patch.title !== undefined && patch.title !== current.title);
  const memory = await deps.prisma.memory.update({
    where: { id: current.id },
    data: {
      ...(patch.title !== undefined && { title: patch.title }),
      ...(patch.content !== undefined && { content: patch.content }),
      ...(contentChanged && { snippet: snippetOf(patch.content!) }),
      ...(patch.tags !== undefined && { tags: patch.tags }),
      ...(patch.metadata !== undefined && { metadata: patch.metadata as Prisma.InputJsonValue }),
      ...(textChanged && { embeddingStatus: 'pending', embeddingError: null }),
      version: { increment: 1 },
    },
  });
  if (textChanged) deps.embeddings.nudge();
  return memory;
}

/** M6: queues a real recomputation of the vectors; version +1 and updatedAt bumped. */
export async function reEmbedMemory(deps: AppDeps, id: string) {
  const memory = await deps.prisma.memory.update({
    where: { id },
    data: { embeddingStatus: 'pending', embeddingError: null, version: { increment: 1 } },
  });
  deps.embeddings.nudge();
  return memory;
}

/** M5: deletes the memory (chunks and injection links cascade) and invalidates the vector index. */
export async function deleteMemory(deps: AppDeps, memory: { id: string; workspaceId: string }) {
  await deps.prisma.$transaction(async (tx) => {
    await tx.memory.delete({ where: { id: memory.id } });
    await bumpIndexStamp(tx, memory.workspaceId);
  });
}

/** The first chunk's vector of each ready memory, in one query. */
export async function firstVectors(prisma: PrismaClient, memories: Pick<MemoryRow, 'id' | 'embeddingStatus'>[]): Promise<Map<string, Float32Array>> {
  const ids = memories.filter((m) => m.embeddingStatus === 'ready').map((m) => m.id);
  if (ids.length === 0) return new Map();
  const chunks = await prisma.memoryChunk.findMany({ where: { memoryId: { in: ids }, chunkIndex: 0 }, select: { memoryId: true, vector: true } });
  return new Map(chunks.map((c) => [c.memoryId, bytesToVector(c.vector)]));
}

export async function presentMemories(prisma: PrismaClient, memories: MemoryRow[]) {
  const vectors = await firstVectors(prisma, memories);
  return memories.map((m) => presentMemory(m, vectors.get(m.id)));
}

export async function presentOne(prisma: PrismaClient, memory: MemoryRow) {
  return (await presentMemories(prisma, [memory]))[0]!;
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
export async function listMemories(deps: AppDeps, o: ListOptions): Promise<{ memories: MemoryRow[]; total: number }> {
  const tagFilter: Prisma.MemoryWhereInput = o.tags?.length ? { tags: { hasSome: o.tags } } : {};
  const order = orderFor(o.sortBy);
  const search = o.search?.trim();
  if (!search) {
    const where = { workspaceId: o.workspaceId, ...tagFilter };
    const [memories, total] = await Promise.all([
      deps.prisma.memory.findMany({ where, orderBy: order ?? { createdAt: 'desc' }, skip: o.offset, take: o.limit }),
      deps.prisma.memory.count({ where }),
    ]);
    return { memories, total };
  }
  const [ranked, substring] = await Promise.all([
    searchMemories(deps, { userId: o.userId, workspaceIds: [o.workspaceId], query: search, topK: LIST_SEARCH_LIMIT, tags: o.tags }),
    deps.prisma.memory.findMany({
      where: {
        workspaceId: o.workspaceId,
        ...tagFilter,
        OR: [{ title: { contains: search, mode: 'insensitive' } }, { content: { contains: search, mode: 'insensitive' } }],
      },
      orderBy: { updatedAt: 'desc' },
      take: LIST_SEARCH_LIMIT,
    }),
  ]);
  const byId = new Map<string, MemoryRow>();
  for (const hit of ranked.results) byId.set(hit.memory.id, hit.memory);
  for (const m of substring) if (!byId.has(m.id)) byId.set(m.id, m);
  let memories = [...byId.values()];
  if (order) memories = sortRows(memories, o.sortBy);
  const page = memories.slice(o.offset ?? 0, o.limit === undefined ? undefined : (o.offset ?? 0) + o.limit);
  return { memories: page, total: memories.length };
}

/** §2.6 sortBy: title ascending; recent (or absent) updatedAt descending; relevance with a search ranks by score; else createdAt descending. */
function orderFor(sortBy: string | undefined): Prisma.MemoryOrderByWithRelationInput | null {
  if (sortBy === 'title') return { title: 'asc' };
  if (sortBy === undefined || sortBy === 'recent') return { updatedAt: 'desc' };
  if (sortBy === 'relevance') return null;
  return { createdAt: 'desc' };
}

function sortRows(rows: MemoryRow[], sortBy: string | undefined): MemoryRow[] {
  if (sortBy === 'title') return rows.sort((a, b) => (a.title < b.title ? -1 : a.title > b.title ? 1 : 0));
  if (sortBy === undefined || sortBy === 'recent') return rows.sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime());
  return rows.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
}
