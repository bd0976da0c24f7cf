import { newId } from '../../../src/lib/ids.js';
import { byRole, type MatrixFixture, type MatrixRow } from '../types.js';

/** A fresh conversation (with one message, one memory and its injection link) in a fresh workspace. */
async function scene(f: MatrixFixture) {
  const { id: workspaceId } = await f.freshWorkspace();
  const prisma = f.app.deps.prisma;
  const conversation = await prisma.conversation.create({ data: { id: newId('conv'), workspaceId, modelId: 'model-echo', createdById: f.sessions.owner.user.id } });
  const message = await prisma.chatMessage.create({ data: { id: newId('msg'), conversationId: conversation.id, role: 'user', content: 'hello' } });
  const memory = await prisma.memory.create({ data: { id: newId('memory'), workspaceId, title: 'M', content: 'memory content' } });
  await prisma.conversationMemory.create({ data: { conversationId: conversation.id, memoryId: memory.id } });
  const spare = await prisma.memory.create({ data: { id: newId('memory'), workspaceId, title: 'Spare', content: 'not injected yet' } });
  return { workspaceId, conversationId: conversation.id, messageId: message.id, memoryId: memory.id, spareMemoryId: spare.id };
}

const write = byRole('researcher', 200);
/** What a key needs to change a conversation or write in it. */
const chat = { chat: 200 };

export const rows: MatrixRow[] = [
  { operationId: 'C1', prepare: async (f) => ({ path: `/workspaces/${(await scene(f)).workspaceId}/conversations` }), expect: byRole('observer', 200), keys: { 'conversations:read': 200 } },
  { operationId: 'C2', prepare: async (f) => ({ path: `/workspaces/${(await scene(f)).workspaceId}/conversations`, body: { modelId: 'model-echo' } }), expect: byRole('researcher', 201), keys: { chat: 201 } },
  { operationId: 'C3', prepare: async (f) => ({ path: `/conversations/${(await scene(f)).conversationId}` }), expect: byRole('observer', 200), keys: { 'conversations:read': 200 } },
  { operationId: 'C4', prepare: async (f) => ({ path: `/conversations/${(await scene(f)).conversationId}`, body: { title: 'Renamed' } }), expect: write, keys: chat },
  { operationId: 'C5', prepare: async (f) => ({ path: `/conversations/${(await scene(f)).conversationId}` }), expect: write, keys: chat },
  {
    operationId: 'C6',
    prepare: async (f) => ({ path: `/conversations/${(await scene(f)).conversationId}/messages`, body: { content: 'hi', getAiResponse: false } }),
    expect: byRole('researcher', 201),
    keys: { chat: 201 },
  },
  {
    operationId: 'C7',
    prepare: async (f) => {
      const s = await scene(f);
      return { path: `/conversations/${s.conversationId}/messages/${s.messageId}`, body: { isPinned: true } };
    },
    expect: write,
    keys: chat,
  },
  {
    operationId: 'C8',
    prepare: async (f) => {
      const s = await scene(f);
      return { path: `/conversations/${s.conversationId}/messages/${s.messageId}` };
    },
    expect: write,
    keys: chat,
  },
  {
    operationId: 'C9',
    prepare: async (f) => {
      const s = await scene(f);
      return { path: `/conversations/${s.conversationId}/inject-memory`, body: { memoryId: s.spareMemoryId } };
    },
    expect: write,
    keys: chat,
  },
  {
    operationId: 'C10',
    prepare: async (f) => {
      const s = await scene(f);
      return { path: `/conversations/${s.conversationId}/inject-memory/${s.memoryId}` };
    },
    expect: write,
    keys: chat,
  },
  {
    operationId: 'C11',
    prepare: async (f) => {
      const s = await scene(f);
      return { path: `/conversations/${s.conversationId}/inject-memory/${s.memoryId}/toggle` };
    },
    expect: write,
    keys: chat,
  },
  { operationId: 'C12', prepare: async (f) => ({ path: `/conversations/${(await scene(f)).conversationId}/close` }), expect: write, keys: chat },
  { operationId: 'C13', prepare: async (f) => ({ path: `/conversations/${(await scene(f)).conversationId}/reopen` }), expect: write, keys: chat },
  {
    operationId: 'extractConversation',
    prepare: async (f) => ({ path: `/conversations/${(await scene(f)).conversationId}/extract` }),
    expect: byRole('researcher', 202),
    keys: { chat: 202 },
  },
];
