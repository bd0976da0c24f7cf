/** Conversations and their messages: access follows the caller's role in the conversation's workspace. */
import { type ConversationSubjectRow, conversationSubjectSql } from '../data/conversations.js';
import { type Role, roleFrom } from './membership.js';
import { defineResource, hasStrings } from './policy.js';
import { member } from './workspace.js';

export interface ConversationSubject {
  id: string;
  workspaceId: string;
  title: string;
  modelId: string;
  /** The caller's role in the conversation's workspace; null when not a member. */
  role: Role | null;
}

const isConversationRow = (v: unknown): v is ConversationSubjectRow => hasStrings(v, 'id', 'workspaceId', 'title', 'modelId');

export const conversation = defineResource({
  name: 'conversation',
  notFound: 'Conversation not found',
  load: {
    keys: ['conversationId'],
    sql: (actorId, keys) => conversationSubjectSql(actorId, keys.conversationId),
    check: isConversationRow,
    subject: (row: ConversationSubjectRow): ConversationSubject => ({ id: row.id, workspaceId: row.workspaceId, title: row.title, modelId: row.modelId, role: roleFrom(row.role) }),
  },
  rules: {
    read: member('observer'),
    /** Rename, status, injected memories, close and reopen. */
    update: member('researcher'),
    delete: member('researcher'),
    'send-message': member('researcher'),
    /** Queue the extraction of its facts into memories (never observers). */
    extract: member('researcher'),
    /** Pin, unpin and delete messages. */
    'edit-messages': member('researcher'),
  },
  keys: { read: 'conversations:read', update: 'chat', delete: 'chat', 'send-message': 'chat', extract: 'chat', 'edit-messages': 'chat' },
  workspaceOf: (subject) => subject.workspaceId,
});
