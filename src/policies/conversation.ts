/** Conversations and their messages: access follows the caller's role in the conversation's workspace. */
import { Prisma } from '../generated/prisma/client.js';
import { roleIn } from '../data/membership.js';
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

interface ConversationRow {
  id: string;
  workspaceId: string;
  title: string;
  modelId: string;
  role: unknown;
}

const isConversationRow = (v: unknown): v is ConversationRow => hasStrings(v, 'id', 'workspaceId', 'title', 'modelId');

/** The conversation with the caller's role in its workspace, as one JSON value (null when there is none). */
const conversationSql = (actorId: string, conversationId: string) => Prisma.sql`
  SELECT json_build_object('id', c."id", 'workspaceId', c."workspace_id", 'title', c."title", 'modelId', c."model_id",
                           'role', ${roleIn(Prisma.sql`c."workspace_id"`, actorId)})
    FROM "conversations" c WHERE c."id" = ${conversationId}`;

export const conversation = defineResource({
  name: 'conversation',
  notFound: 'Conversation not found',
  load: {
    keys: ['conversationId'],
    sql: (actorId, keys) => conversationSql(actorId, keys.conversationId),
    check: isConversationRow,
    subject: (row: ConversationRow): ConversationSubject => ({ id: row.id, workspaceId: row.workspaceId, title: row.title, modelId: row.modelId, role: roleFrom(row.role) }),
  },
  rules: {
    read: member('observer'),
    /** Rename, status, injected memories, close and reopen. */
    update: member('researcher'),
    delete: member('researcher'),
    'send-message': member('researcher'),
    /** Pin, unpin and delete messages. */
    'edit-messages': member('researcher'),
  },
});
