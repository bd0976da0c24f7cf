/**
 * The export document (S6, §5.15): `{user, settings, workspaces, integrations}`, each
 * workspace with its conversations (with their messages) and memories, dates in ISO form.
 * Lists are streamed (lib/json-stream.ts) from the pages the export service reads.
 */
import type { MessageRow } from '../data/chat-messages.js';
import type { ExportedConversation } from '../data/conversations.js';
import type { MemoryRow } from '../data/memories.js';
import type { AccountRow } from '../data/users.js';
import type { WorkspaceRow } from '../data/workspaces.js';
import type { Integration } from '../generated/prisma/client.js';
import { type Entries, streamedArray } from '../lib/json-stream.js';
import { presentSettings } from './settings.js';

export interface ExportContent {
  account: AccountRow;
  workspaces: AsyncIterable<WorkspaceRow[]>;
  conversationsOf(workspaceId: string): AsyncIterable<ExportedConversation[]>;
  messagesOf(conversationId: string): AsyncIterable<MessageRow[]>;
  memoriesOf(workspaceId: string): AsyncIterable<MemoryRow[]>;
  integrations: AsyncIterable<Pick<Integration, 'id' | 'provider' | 'status' | 'lastTested' | 'createdAt'>[]>;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function presentExport(c: ExportContent): Entries {
  const { account } = c;
  const workspace = (ws: WorkspaceRow): Entries => [
    ['id', ws.id],
    ['name', ws.name],
    ['description', ws.description],
    ['ownerId', ws.ownerId],
    ['isOwner', ws.ownerId === account.id],
    ['createdAt', iso(ws.createdAt)],
    ['updatedAt', iso(ws.updatedAt)],
    ['conversations', streamedArray(c.conversationsOf(ws.id), (v) => [
      ['id', v.id], ['title', v.title], ['modelId', v.modelId], ['status', v.status], ['createdAt', iso(v.createdAt)], ['updatedAt', iso(v.updatedAt)],
      ['messages', streamedArray(c.messagesOf(v.id), (m) => [
        ['id', m.id], ['role', m.role], ['content', m.content], ['isPinned', m.isPinned], ['timestamp', iso(m.timestamp)], ['metadata', m.metadata ?? {}],
      ])],
    ])],
    ['memories', streamedArray(c.memoriesOf(ws.id), (m) => [
      ['id', m.id], ['title', m.title], ['content', m.content], ['snippet', m.snippet], ['tags', m.tags], ['metadata', m.metadata ?? {}],
      ['version', m.version], ['createdAt', iso(m.createdAt)], ['updatedAt', iso(m.updatedAt)],
    ])],
  ];
  return [
    ['user', { id: account.id, name: account.name, email: account.email, createdAt: iso(account.createdAt) }],
    ['settings', presentSettings(account)],
    ['workspaces', streamedArray(c.workspaces, workspace)],
    ['integrations', streamedArray(c.integrations, (i) => [
      ['id', i.id], ['provider', i.provider], ['status', i.status], ['lastTested', iso(i.lastTested)], ['createdAt', iso(i.createdAt)],
    ])],
  ];
}
