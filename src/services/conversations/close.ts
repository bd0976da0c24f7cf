/**
 * C12 close (D14): marks the conversation completed and keeps ONE transcript memory per
 * conversation (§5.11). Closing again updates that memory (version + 1) only when the
 * transcript changed, so repeated closes are idempotent. A user with autoStore off gets
 * no memory. The memory is stored with embedding status `pending`; the embedding
 * backlog sweeper picks it up.
 */
import { requestExtraction } from '../../data/conversation-extractions.js';
import { autoExtractOf, type FullConversation, lockConversation, updateConversationRow } from '../../data/conversations.js';
import { findMemory } from '../../data/memories.js';
import type { Db } from '../../data/sql.js';
import type { PrismaClient } from '../../db/client.js';
import type { Memory, Prisma } from '../../generated/prisma/client.js';
import type { EmbeddingService } from '../embeddings/index.js';
import { insertMemoryTx, reviseMemoryTx } from '../memories/service.js';
import type { Provenance } from '../memories/versions.js';
import { getFullConversation } from './index.js';

const TAG_RULES: [string, string[]][] = [
  ['preference', ['prefer', 'like', 'love', 'favorite']],
  ['project', ['building', 'working', 'developing', 'creating']],
  ['programming', ['python', 'javascript', 'java', 'code', 'programming']],
  ['design', ['design', 'ui', 'ux', 'interface', 'layout']],
  ['backend', ['api', 'backend', 'server', 'database']],
  ['frontend', ['frontend', 'react', 'vue', 'angular']],
  ['team', ['team', 'colleague', 'member', 'collaborate']],
  ['important', ['important', 'critical', 'must', 'required']],
];

/** §5.11 generate_tags: plain substring triggers, in table order; `general` when none match. */
export function generateTags(content: string): string[] {
  const lower = content.toLowerCase();
  const tags = TAG_RULES.filter(([, triggers]) => triggers.some((t) => lower.includes(t))).map(([tag]) => tag);
  return tags.length ? tags : ['general'];
}

export function transcriptOf(messages: { role: string; content: string }[]): string {
  return messages.map((m) => `${m.role === 'user' ? 'User' : 'Assistant'}: ${m.content}`).join('\n\n');
}

export interface ClosedConversation {
  conversation: FullConversation;
  /** The transcript memory; null when there was nothing to keep or the user turned autoStore off. */
  memory: { id: string; title: string; snippet: string } | null;
}

/** The transcript memory's provenance: the whole conversation. */
const transcriptProvenance = (conversation: FullConversation): Provenance => ({
  source: 'conversation', conversationId: conversation.id, messageIds: conversation.messages.map((m) => m.id), model: conversation.modelId,
});

/**
 * Keeps the conversation's ONE transcript memory (§5.11), inside the caller's transaction
 * (which holds the conversation's row lock): written the first time, revised (a version of
 * its history) only when the transcript changed. Null when there are no messages.
 */
export async function keepTranscriptMemory(tx: Db, conversation: FullConversation, authorId: string | null, closedAt: Date): Promise<Memory | null> {
  if (conversation.messages.length === 0) return null;
  const content = transcriptOf(conversation.messages);
  const fields = {
    title: conversation.title,
    content,
    tags: [...generateTags(content), 'conversation-summary', 'auto-generated'],
    metadata: {
      source: 'conversation',
      conversation_id: conversation.id,
      conversation_title: conversation.title,
      model_used: conversation.modelId,
      message_count: conversation.messages.length,
      auto_summarized: true,
      closed_at: closedAt.toISOString(),
    } satisfies Prisma.InputJsonObject,
  };
  const existing = conversation.summaryMemoryId ? await findMemory(tx, conversation.summaryMemoryId) : null;
  if (existing && existing.content === content && existing.title === conversation.title) return existing;
  if (existing) return (await reviseMemoryTx(tx, existing, fields, 'UPDATE', transcriptProvenance(conversation))).memory;
  // §5.3: a close summary logs no activity.
  const memory = await insertMemoryTx(tx, { workspaceId: conversation.workspaceId, authorId, ...fields, provenance: transcriptProvenance(conversation) }, { activity: false });
  await updateConversationRow(tx, conversation.id, { summaryMemoryId: memory.id, updatedAt: conversation.updatedAt });
  return memory;
}

/**
 * One transaction: the row lock, the transcript memory, the status. With the workspace's
 * autoExtract on, the close queues the fact extraction instead of the transcript memory (the
 * extraction falls back to it when the model cannot help): the close answers at once, the
 * extraction queue runs after it. The backlog and the queue are nudged after it commits.
 */
export async function closeConversation(
  db: PrismaClient,
  queues: { embeddings: Pick<EmbeddingService, 'nudge'>; extractions: { nudge(): void } },
  user: { id: string; autoStore: boolean },
  conversationId: string,
): Promise<ClosedConversation> {
  const result = await db.$transaction(async (tx) => {
    // Row lock: two concurrent closes of one conversation write one memory.
    await lockConversation(tx, conversationId);
    const before = await getFullConversation(tx, conversationId);
    const closedAt = new Date();
    const extract = user.autoStore && before.messages.length > 0 && (await autoExtractOf(tx, conversationId));
    if (extract) await requestExtraction(tx, { conversationId, workspaceId: before.workspaceId, requestedById: user.id });
    const memory = user.autoStore && !extract ? await keepTranscriptMemory(tx, before, user.id, closedAt) : null;
    const conversation = await updateConversationRow(tx, conversationId, { status: 'completed', updatedAt: closedAt });
    return { conversation, memory: memory && { id: memory.id, title: memory.title, snippet: memory.snippet }, extract };
  });
  if (result.memory) queues.embeddings.nudge();
  if (result.extract) queues.extractions.nudge();
  return { conversation: result.conversation, memory: result.memory };
}
