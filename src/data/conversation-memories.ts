/**
 * Injection links (`conversation_memories`): which memories a conversation's replies see, and
 * whether each is active. The reply context reads the active ones (chat-messages.ts).
 */
import type { ConversationMemory } from '../generated/prisma/client.js';
import type { Db } from './sql.js';

/** Links the memory to the conversation, active; an existing link is kept as it is. */
export async function linkMemory(db: Db, conversationId: string, memoryId: string): Promise<void> {
  await db.conversationMemory.upsert({
    where: { conversationId_memoryId: { conversationId, memoryId } },
    create: { conversationId, memoryId },
    update: {},
  });
}

/** Removes the link; false when there was none. */
export async function unlinkMemory(db: Db, conversationId: string, memoryId: string): Promise<boolean> {
  const { count } = await db.conversationMemory.deleteMany({ where: { conversationId, memoryId } });
  return count > 0;
}

/** Flips the link's isActive and returns the new value; null when there is no such link. */
export async function toggleLink(db: Db, conversationId: string, memoryId: string): Promise<boolean | null> {
  // Raw: Prisma cannot set a column to its own negation, and reading then writing could lose a concurrent flip.
  const rows = await db.$queryRaw<Pick<ConversationMemory, 'isActive'>[]>`
    UPDATE conversation_memories SET is_active = NOT is_active
    WHERE conversation_id = ${conversationId} AND memory_id = ${memoryId}
    RETURNING is_active AS "isActive"`;
  return rows[0]?.isActive ?? null;
}
