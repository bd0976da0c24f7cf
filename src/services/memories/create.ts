/**
 * The one way a memory row is written: snippet per §5.4, version 1, the author, status
 * `pending` (the embedding backlog sweeper picks every pending row up), and the
 * `memory_created` activity, all inside the caller's transaction.
 */
import type { Prisma } from '../../generated/prisma/client.js';
import { newId } from '../../lib/ids.js';
import { logActivity } from '../activity.js';

export interface NewMemory {
  workspaceId: string;
  authorId: string | null;
  title: string;
  content: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
}

/** §5.4: the first 150 characters of the content, plus `...` when it is longer. */
export const snippetOf = (content: string): string => (content.length > 150 ? `${content.slice(0, 150)}...` : content);

export async function insertMemoryTx(tx: Prisma.TransactionClient, input: NewMemory) {
  const memory = await tx.memory.create({
    data: {
      id: newId('memory'),
      workspaceId: input.workspaceId,
      authorId: input.authorId,
      title: input.title,
      content: input.content,
      snippet: snippetOf(input.content),
      tags: input.tags ?? [],
      metadata: (input.metadata ?? {}) as Prisma.InputJsonValue,
      version: 1,
      embeddingStatus: 'pending',
    },
  });
  await logActivity(tx, input.workspaceId, 'memory_created', `Memory '${memory.title}' created`, {
    memoryId: memory.id,
    memoryTitle: memory.title,
  });
  return memory;
}
