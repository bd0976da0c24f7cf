/**
 * C12 close (D14): marks the conversation completed and keeps ONE transcript memory per
 * conversation (§5.11). Closing again updates that memory (version + 1) only when the
 * transcript changed, so repeated closes are idempotent. A user with autoStore off gets
 * no memory. The memory is stored with embedding status `pending`; the embedding
 * backlog sweeper picks it up.
 */
import { type FullConversation, lockConversation, updateConversationRow } from '../../data/conversations.js';
import { findMemory, reviseMemory } from '../../data/memories.js';
import type { PrismaClient } from '../../db/client.js';
import type { Prisma } from '../../generated/prisma/client.js';
import { snippetOf } from '../../lib/snippet.js';
import type { EmbeddingService } from '../embeddings/index.js';
import { insertMemoryTx } from '../memories/service.js';
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

/** One transaction: the row lock, the transcript memory, the status. The backlog is nudged after it commits. */
export async function closeConversation(
  db: PrismaClient,
  embeddings: Pick<EmbeddingService, 'nudge'>,
  user: { id: string; autoStore: boolean },
  conversationId: string,
): Promise<ClosedConversation> {
  const result = await db.$transaction(async (tx) => {
    // Row lock: two concurrent closes of one conversation write one memory.
    await lockConversation(tx, conversationId);
    const before = await getFullConversation(tx, conversationId);
    const closedAt = new Date();
    let memory: ClosedConversation['memory'] = null;
    if (before.messages.length > 0 && user.autoStore) {
      const content = transcriptOf(before.messages);
      const fields = {
        title: before.title,
        content,
        snippet: snippetOf(content),
        tags: [...generateTags(content), 'conversation-summary', 'auto-generated'],
        metadata: {
          source: 'conversation',
          conversation_id: before.id,
          conversation_title: before.title,
          model_used: before.modelId,
          message_count: before.messages.length,
          auto_summarized: true,
          closed_at: closedAt.toISOString(),
        } satisfies Prisma.InputJsonObject,
      };
      const existing = before.summaryMemoryId ? await findMemory(tx, before.summaryMemoryId) : null;
      if (existing && existing.content === content && existing.title === before.title) {
        memory = existing;
      } else if (existing) {
        memory = await reviseMemory(tx, existing.id, fields, { reembed: true });
      } else {
        // §5.3: a close summary logs no activity.
        memory = await insertMemoryTx(tx, { workspaceId: before.workspaceId, authorId: user.id, ...fields }, { activity: false });
      }
    }
    const conversation = await updateConversationRow(tx, conversationId, {
      status: 'completed',
      updatedAt: closedAt,
      ...(memory ? { summaryMemoryId: memory.id } : {}),
    });
    return { conversation, memory: memory && { id: memory.id, title: memory.title, snippet: memory.snippet } };
  });
  if (result.memory) embeddings.nudge();
  return result;
}
