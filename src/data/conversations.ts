/** Conversations: statements on the `conversations` table. */
import type { Db } from './sql.js';

/** The workspace the conversation belongs to, or null when there is no such conversation. */
export async function conversationWorkspaceId(db: Db, conversationId: string): Promise<string | null> {
  const conversation = await db.conversation.findUnique({ where: { id: conversationId }, select: { workspaceId: true } });
  return conversation?.workspaceId ?? null;
}
