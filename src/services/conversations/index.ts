/**
 * Conversations, their messages and injected memories (C1–C5, C7–C11, C13). The
 * conversation policy has loaded and authorized the conversation; these functions do the work.
 */
import type { AppDeps } from '../../app-deps.js';
import type { PrismaClient } from '../../db/client.js';
import type { Prisma } from '../../generated/prisma/client.js';
import { notFound } from '../../http/errors.js';
import { newId } from '../../lib/ids.js';
import { logActivity } from '../activity.js';

export const CONVERSATION_NOT_FOUND = 'Conversation not found';

const FULL = {
  messages: { orderBy: [{ timestamp: 'asc' }, { id: 'asc' }] },
  injections: { orderBy: [{ injectedAt: 'asc' }, { id: 'asc' }], select: { memoryId: true, isActive: true } },
} satisfies Prisma.ConversationInclude;

export async function getFullConversation(db: Pick<PrismaClient, 'conversation'>, id: string) {
  const conversation = await db.conversation.findUnique({ where: { id }, include: FULL });
  if (!conversation) throw notFound(CONVERSATION_NOT_FOUND);
  return conversation;
}

export async function listConversations(deps: AppDeps, workspaceId: string, page: { limit?: number; offset?: number }) {
  const where = { workspaceId };
  const [rows, total] = await Promise.all([
    deps.prisma.conversation.findMany({
      where,
      orderBy: [{ updatedAt: 'desc' }, { id: 'asc' }],
      take: page.limit,
      skip: page.offset,
      include: { _count: { select: { messages: true } } },
    }),
    deps.prisma.conversation.count({ where }),
  ]);
  return { rows, total };
}

export async function createConversation(deps: AppDeps, userId: string, workspaceId: string, input: { modelId: string; title?: string }) {
  return deps.prisma.$transaction(async (tx) => {
    const conversation = await tx.conversation.create({
      data: { id: newId('conv'), workspaceId, title: input.title ?? 'New Conversation', modelId: input.modelId, createdById: userId },
      include: FULL,
    });
    await logActivity(tx, workspaceId, 'conversation_created', `Conversation '${conversation.title}' started`, {
      conversationId: conversation.id,
      conversationTitle: conversation.title,
      modelId: conversation.modelId,
    });
    return conversation;
  });
}

export async function updateConversation(deps: AppDeps, id: string, input: { title?: string; status?: string }) {
  // An update with no field still bumps updatedAt, as every PUT does (§5.16).
  return deps.prisma.conversation.update({ where: { id }, data: { ...input, updatedAt: new Date() }, include: FULL });
}

export async function deleteConversation(deps: AppDeps, id: string) {
  await deps.prisma.conversation.deleteMany({ where: { id } });
}

const MESSAGE_NOT_FOUND = 'Message not found';

/** C7: pins or unpins; a present `isPinned` also bumps the conversation (§5.16). */
export async function updateMessage(deps: AppDeps, conversationId: string, messageId: string, input: { isPinned?: boolean }) {
  return deps.prisma.$transaction(async (tx) => {
    const message = await tx.chatMessage.findFirst({ where: { id: messageId, conversationId } });
    if (!message) throw notFound(MESSAGE_NOT_FOUND);
    if (input.isPinned === undefined) return message;
    await tx.conversation.update({ where: { id: conversationId }, data: { updatedAt: new Date() } });
    return tx.chatMessage.update({ where: { id: message.id }, data: { isPinned: input.isPinned } });
  });
}

export async function deleteMessage(deps: AppDeps, conversationId: string, messageId: string) {
  await deps.prisma.$transaction(async (tx) => {
    const deleted = await tx.chatMessage.deleteMany({ where: { id: messageId, conversationId } });
    if (deleted.count === 0) throw notFound(MESSAGE_NOT_FOUND);
    await tx.conversation.update({ where: { id: conversationId }, data: { updatedAt: new Date() } });
  });
}

/** C9: get-or-create; an existing link keeps its isActive. The memory must be in the same workspace. */
export async function injectMemory(deps: AppDeps, conversation: { id: string; workspaceId: string }, memoryId: string) {
  const memory = await deps.prisma.memory.findFirst({ where: { id: memoryId, workspaceId: conversation.workspaceId }, select: { id: true } });
  if (!memory) throw notFound('Memory not found');
  await deps.prisma.conversationMemory.upsert({
    where: { conversationId_memoryId: { conversationId: conversation.id, memoryId } },
    create: { conversationId: conversation.id, memoryId },
    update: {},
  });
}

const INJECTION_NOT_FOUND = 'Memory injection not found';

export async function removeInjection(deps: AppDeps, conversationId: string, memoryId: string) {
  const deleted = await deps.prisma.conversationMemory.deleteMany({ where: { conversationId, memoryId } });
  if (deleted.count === 0) throw notFound(INJECTION_NOT_FOUND);
}

/** C11: flips isActive in one statement, so concurrent toggles never lose a flip. */
export async function toggleInjection(deps: AppDeps, conversationId: string, memoryId: string) {
  const rows = await deps.prisma.$queryRaw<{ is_active: boolean }[]>`
    UPDATE conversation_memories SET is_active = NOT is_active
    WHERE conversation_id = ${conversationId} AND memory_id = ${memoryId}
    RETURNING is_active`;
  const row = rows[0];
  if (!row) throw notFound(INJECTION_NOT_FOUND);
  return { memoryId, isActive: row.is_active, message: row.is_active ? 'Memory activated' : 'Memory paused' };
}

export async function reopenConversation(deps: AppDeps, id: string) {
  return deps.prisma.conversation.update({ where: { id }, data: { status: 'active', updatedAt: new Date() }, include: FULL });
}
