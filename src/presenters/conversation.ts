/** Conversation, list item and message shapes of §2.1 (explicit fields; authors stay internal). */
import type { Presented } from '../schemas/responses/common.js';
import type { Conversation, ConversationSummary, Message } from '../schemas/responses/conversations.js';

export interface MessageRow {
  id: string;
  conversationId: string;
  role: string;
  content: string;
  timestamp: Date;
  isPinned: boolean;
  metadata: unknown;
}

export interface ConversationRow {
  id: string;
  workspaceId: string;
  title: string;
  modelId: string;
  status: string;
  createdAt: Date;
  updatedAt: Date;
}

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

export function presentConversation(c: ConversationRow & { messages: MessageRow[]; injections: { memoryId: string; isActive: boolean }[] }): Presented<typeof Conversation> {
  return {
    id: c.id,
    workspaceId: c.workspaceId,
    title: c.title,
    modelId: c.modelId,
    messages: c.messages.map(presentMessage),
    injectedMemories: c.injections.map((i) => ({ id: i.memoryId, isActive: i.isActive })),
    status: c.status,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

export function presentConversationListItem(c: ConversationRow & { _count: { messages: number } }): Presented<typeof ConversationSummary> {
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
