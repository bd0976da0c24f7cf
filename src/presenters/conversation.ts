/** Conversation, list item and message shapes of §2.1 (explicit fields; authors stay internal). */
import type { MessageRow } from '../data/chat-messages.js';
import type { Conversation, ConversationExtraction } from '../generated/prisma/client.js';
import type { Presented } from '../schemas/responses/common.js';
import type { Conversation as ConversationSchema, ConversationSummary, Extraction, Message } from '../schemas/responses/conversations.js';

type ConversationFields = Pick<Conversation, 'id' | 'workspaceId' | 'title' | 'modelId' | 'status' | 'createdAt' | 'updatedAt'>;

export function presentMessage(m: MessageRow): Presented<typeof Message> {
  return {
    id: m.id,
    conversationId: m.conversationId,
    role: m.role,
    content: m.content,
    timestamp: m.timestamp.toISOString(),
    isPinned: m.isPinned,
    metadata: (m.metadata ?? {}) as Record<string, unknown>,
  };
}

/** A send's messages (C6): the question and, when there is one, the reply or what arrived of it. */
export function presentSentMessages(sent: { userMessage: MessageRow; assistantMessage?: MessageRow }) {
  return sent.assistantMessage
    ? { userMessage: presentMessage(sent.userMessage), assistantMessage: presentMessage(sent.assistantMessage) }
    : { userMessage: presentMessage(sent.userMessage) };
}

/** A conversation's fact extraction: its state and the last run's counts. */
export function presentExtraction(e: ConversationExtraction): Presented<typeof Extraction> {
  return {
    status: e.status,
    error: e.error,
    throughMessageId: e.throughMessageId,
    result: (e.result ?? {}) as Record<string, unknown>,
    requestedAt: e.requestedAt.toISOString(),
    finishedAt: e.finishedAt?.toISOString() ?? null,
  };
}

export function presentConversation(
  c: ConversationFields & { messages: MessageRow[]; injections: { memoryId: string; isActive: boolean }[]; extraction: ConversationExtraction | null },
): Presented<typeof ConversationSchema> {
  return {
    id: c.id,
    workspaceId: c.workspaceId,
    title: c.title,
    modelId: c.modelId,
    messages: c.messages.map(presentMessage),
    injectedMemories: c.injections.map((i) => ({ id: i.memoryId, isActive: i.isActive })),
    extraction: c.extraction && presentExtraction(c.extraction),
    status: c.status,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

export function presentConversationListItem(c: ConversationFields & { _count: { messages: number } }): Presented<typeof ConversationSummary> {
  return {
    id: c.id,
    workspaceId: c.workspaceId,
    title: c.title,
    modelId: c.modelId,
    status: c.status,
    messageCount: c._count.messages,
    lastUpdated: c.updatedAt.toISOString(),
    createdAt: c.createdAt.toISOString(),
  };
}
