/**
 * Conversations, their messages and injected memories (C1–C5, C7–C11, C13). The
 * conversation policy has loaded and authorized the conversation; these functions do the work.
 */
import { deleteMessageRow, findMessage, setPinned } from '../../data/chat-messages.js';
import { requestExtraction } from '../../data/conversation-extractions.js';
import { linkMemory, toggleLink, unlinkMemory } from '../../data/conversation-memories.js';
import {
  countWorkspaceConversations, deleteConversationRow, findConversation, type FullConversation, insertConversation, touchConversation,
  updateConversationRow, workspaceConversations,
} from '../../data/conversations.js';
import { existingMemoryIds, memoryWorkspaceId } from '../../data/memories.js';
import type { Db } from '../../data/sql.js';
import { workspaceDefaultModel } from '../../data/workspaces.js';
import type { PrismaClient } from '../../db/client.js';
import { AppError, notFound } from '../../lib/errors.js';
import { isPlainObject } from '../../lib/objects.js';
import { logActivity } from '../activity.js';

export const CONVERSATION_NOT_FOUND = 'Conversation not found';

/** The conversation with its messages and injections, or 404: it may have gone since its policy check. */
export async function getFullConversation(db: Db, id: string): Promise<FullConversation> {
  const conversation = await findConversation(db, id);
  if (!conversation) throw notFound(CONVERSATION_NOT_FOUND);
  return conversation;
}

/** A message's `metadata.citations` when it has a list there. */
const citationsIn = (metadata: unknown): unknown[] | null =>
  isPlainObject(metadata) && Array.isArray(metadata.citations) ? metadata.citations : null;

const citedId = (citation: unknown): string | null =>
  isPlainObject(citation) && typeof citation.memoryId === 'string' ? citation.memoryId : null;

/**
 * The conversation as it is shown: a citation of a memory deleted since keeps its title, with
 * `memoryId` null. Resolved when read rather than when deleted: one primary-key lookup, only
 * when some message cites a memory, and every way a memory goes (delete, retention, account
 * deletion) is covered without rewriting messages.
 */
export async function withResolvedCitations<C extends Pick<FullConversation, 'messages'>>(db: Db, conversation: C): Promise<C> {
  const cited = new Set(conversation.messages.flatMap((m) => (citationsIn(m.metadata) ?? []).map(citedId).filter((id) => id !== null)));
  if (cited.size === 0) return conversation;
  const existing = await existingMemoryIds(db, [...cited]);
  if (existing.size === cited.size) return conversation;
  const gone = (citation: unknown) => {
    const id = citedId(citation);
    return id !== null && !existing.has(id);
  };
  const messages = conversation.messages.map((message) => {
    const citations = citationsIn(message.metadata);
    if (!citations?.some(gone)) return message;
    const shown = citations.map((c) => (gone(c) ? { ...(c as object), memoryId: null } : c));
    return { ...message, metadata: { ...(message.metadata as object), citations: shown } };
  });
  return { ...conversation, messages };
}

/** C3: the conversation with its messages, their citations resolved. */
export async function readConversation(db: Db, id: string): Promise<FullConversation> {
  return withResolvedCitations(db, await getFullConversation(db, id));
}

export async function listConversations(db: Db, workspaceId: string, page: { limit?: number; offset?: number }) {
  const [rows, total] = await Promise.all([workspaceConversations(db, workspaceId, page), countWorkspaceConversations(db, workspaceId)]);
  return { rows, total };
}

/** C2: without a modelId, the conversation takes the workspace's default model; without either, modelId is required. */
export async function createConversation(db: PrismaClient, userId: string, workspaceId: string, input: { modelId?: string; title?: string }) {
  const modelId = input.modelId ?? (await workspaceDefaultModel(db, workspaceId));
  if (modelId === null) throw new AppError(400, { modelId: ['This field is required.'] });
  return db.$transaction(async (tx) => {
    const conversation = await insertConversation(tx, { workspaceId, title: input.title ?? 'New Conversation', modelId, createdById: userId });
    await logActivity(tx, workspaceId, 'conversation_created', `Conversation '${conversation.title}' started`, {
      conversationId: conversation.id,
      conversationTitle: conversation.title,
      modelId: conversation.modelId,
    });
    return conversation;
  });
}

export async function updateConversation(db: Db, id: string, input: { title?: string; status?: string }) {
  // An update with no field still bumps updatedAt, as every PUT does (§5.16).
  return withResolvedCitations(db, await updateConversationRow(db, id, { ...input, updatedAt: new Date() }));
}

export async function deleteConversation(db: Db, id: string) {
  await deleteConversationRow(db, id);
}

const MESSAGE_NOT_FOUND = 'Message not found';

/** C7: pins or unpins; a present `isPinned` also bumps the conversation (§5.16). */
export async function updateMessage(db: PrismaClient, conversationId: string, messageId: string, input: { isPinned?: boolean }) {
  return db.$transaction(async (tx) => {
    const message = await findMessage(tx, conversationId, messageId);
    if (!message) throw notFound(MESSAGE_NOT_FOUND);
    if (input.isPinned === undefined) return message;
    await touchConversation(tx, conversationId);
    return setPinned(tx, message.id, input.isPinned);
  });
}

export async function deleteMessage(db: PrismaClient, conversationId: string, messageId: string) {
  await db.$transaction(async (tx) => {
    if (!(await deleteMessageRow(tx, conversationId, messageId))) throw notFound(MESSAGE_NOT_FOUND);
    await touchConversation(tx, conversationId);
  });
}

/** C9: get-or-create; an existing link keeps its isActive. The memory must be in the same workspace. */
export async function injectMemory(db: Db, conversation: { id: string; workspaceId: string }, memoryId: string) {
  if ((await memoryWorkspaceId(db, memoryId)) !== conversation.workspaceId) throw notFound('Memory not found');
  await linkMemory(db, conversation.id, memoryId);
}

const INJECTION_NOT_FOUND = 'Memory injection not found';

export async function removeInjection(db: Db, conversationId: string, memoryId: string) {
  if (!(await unlinkMemory(db, conversationId, memoryId))) throw notFound(INJECTION_NOT_FOUND);
}

/** C11: flips isActive in one statement, so concurrent toggles never lose a flip; returns the new value. */
export async function toggleInjection(db: Db, conversationId: string, memoryId: string): Promise<boolean> {
  const isActive = await toggleLink(db, conversationId, memoryId);
  if (isActive === null) throw notFound(INJECTION_NOT_FOUND);
  return isActive;
}

export async function reopenConversation(db: Db, id: string) {
  return withResolvedCitations(db, await updateConversationRow(db, id, { status: 'active', updatedAt: new Date() }));
}

/** Queues the fact extraction of the conversation with the caller's key (the queue runs it after the answer). */
export async function extractConversation(db: Db, extractions: { nudge(): void }, conversation: { id: string; workspaceId: string }, userId: string) {
  const extraction = await requestExtraction(db, { conversationId: conversation.id, workspaceId: conversation.workspaceId, requestedById: userId });
  extractions.nudge();
  return extraction;
}
