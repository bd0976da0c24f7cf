/**
 * Memories: every statement that reads or writes the `memories` table.
 */
import type { Memory, Prisma } from '../generated/prisma/client.js';
import { columns, type Db, type RowOf } from './sql.js';

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

export function findMemory(db: Db, id: string): Promise<Memory | null> {
  return db.memory.findUnique({ where: { id } });
}

/** The workspace the memory belongs to; null when there is no such memory. */
export async function memoryWorkspaceId(db: Db, id: string): Promise<string | null> {
  const memory = await db.memory.findUnique({ where: { id }, select: { workspaceId: true } });
  return memory?.workspaceId ?? null;
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
