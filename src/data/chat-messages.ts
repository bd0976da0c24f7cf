/**
 * Chat messages: every statement on the `chat_messages` table — the chat send's statements
 * (its preloaded reply context, the message write, the failed mark) and pinning and deleting.
 *
 * The chat send is a measured hot path (`npm run bench chat`: chat adds ≤ 5 ms at p50 over
 * a bare provider call): its statements run on the plain pool as named prepared statements,
 * because Prisma's per-query CPU would be a large share of what the proxy adds.
 */
import type { Database } from '../db/client.js';
import { type ChatMessage, type Integration, type Memory, Prisma, type Workspace } from '../generated/prisma/client.js';
import { newId } from '../lib/ids.js';
import { conversationsBefore } from './conversations.js';
import type { UserRef } from './membership.js';
import { type ChildCursor, childrenOfList, columns, type Db, type RowOf } from './sql.js';
import type { Owners } from './workspaces.js';

/** The plain pool: the chat send's statements run there. */
type Pool = Pick<Database, 'query'>;

/** The message fields the API presents (§2.1), as raw statements return them. */
export const messageColumns = columns('ChatMessage', null, {
  id: 'id',
  conversationId: 'conversation_id',
  role: 'role',
  content: 'content',
  isPinned: 'is_pinned',
  metadata: 'metadata',
  timestamp: 'timestamp',
});

export type MessageRow = RowOf<typeof messageColumns>;

/** Everything a reply needs besides the new message, as `replyContextSql` yields it. */
export interface ReplyContext {
  /** The caller's integrations, connected or not (the model may be found through their model ids); keys as stored (encrypted). */
  integrations: Pick<Integration, 'id' | 'provider' | 'modelId' | 'apiKey' | 'status'>[];
  /** The conversation's active injected memories, in injection order. */
  injected: Pick<Memory, 'id' | 'title' | 'content'>[];
  /** The last `historyLength` messages a model may see again, oldest first. */
  history: Pick<ChatMessage, 'role' | 'content'>[];
  /** The workspace's chat settings; null when the conversation is gone. */
  settings: Pick<Workspace, 'autoRetrieve' | 'systemPrompt' | 'retrievalTopK'> | null;
}

/**
 * The reply context as one JSON value: raw, a JSON aggregation over six tables in one round
 * trip, read as a fragment riding along with the authentication statement. The history
 * leaves out failed questions and replies cut short with the predicate of the partial index
 * `chat_messages_context_idx`, written the same way so the planner can use that index.
 */
export const replyContextSql = (userId: UserRef, conversationId: string, historyLength: number) => Prisma.sql`
  SELECT json_build_object(
    'integrations',
      (SELECT coalesce(json_agg(json_build_object('id', i."id", 'provider', i."provider", 'modelId', i."model_id", 'apiKey', i."api_key", 'status', i."status")
                                ORDER BY i."created_at", i."id"), '[]'::json)
         FROM "integrations" i WHERE i."user_id" = ${userId}::uuid),
    'injected',
      (SELECT coalesce(json_agg(json_build_object('id', m."id", 'title', m."title", 'content', m."content")
                                ORDER BY l."injected_at", l."id"), '[]'::json)
         FROM "conversation_memories" l JOIN "memories" m ON m."id" = l."memory_id"
        WHERE l."conversation_id" = ${conversationId} AND l."is_active"),
    'history',
      (SELECT coalesce(json_agg(json_build_object('role', h."role", 'content', h."content")
                                ORDER BY h."timestamp", h."id"), '[]'::json)
         FROM (SELECT "role", "content", "timestamp", "id" FROM "chat_messages"
                WHERE "conversation_id" = ${conversationId}
                  AND NOT ("metadata" ?| ARRAY['failed', 'incomplete'])
                ORDER BY "timestamp" DESC, "id" DESC LIMIT ${historyLength}) h),
    'settings',
      (SELECT json_build_object('autoRetrieve', w."auto_retrieve", 'systemPrompt', w."system_prompt", 'retrievalTopK', w."retrieval_top_k")
         FROM "conversations" c JOIN "workspaces" w ON w."id" = c."workspace_id" WHERE c."id" = ${conversationId}))`;

export interface NewMessage {
  id: string;
  conversationId: string;
  role: 'user' | 'assistant';
  content: string;
  authorId: string | null;
  metadata: Record<string, unknown>;
  timestamp: Date;
}

/** The `message_sent` activity (§5.3) written with a message. */
export interface MessageActivity {
  workspaceId: string;
  description: string;
  metadata: Record<string, unknown>;
}

/**
 * Writes the message, its activity and (with `bumpConversation`) the conversation's
 * updatedAt (§5.16) in ONE statement: atomic like a transaction, in a single round trip.
 * `deferFlush` commits it without waiting for the WAL flush (`synchronous_commit = off` for
 * this statement's transaction only); only for a write that a synchronous commit follows
 * before any answer (see send-message.ts's header).
 */
export async function storeMessage(
  db: Pool,
  message: NewMessage,
  activity: MessageActivity,
  options: { bumpConversation: boolean; deferFlush: boolean },
): Promise<MessageRow> {
  // Raw on the plain pool, prepared: the chat send's hot path, and a data-modifying CTE over three tables.
  const rows = await db.query<MessageRow>(
    `WITH message AS (
       INSERT INTO chat_messages (id, conversation_id, role, content, is_pinned, metadata, author_id, timestamp)
       VALUES ($1, $2, $3, $4, false, $5::jsonb, $6::uuid, $7::timestamptz)
       RETURNING ${messageColumns.sql}
     ), activity AS (
       INSERT INTO activities (id, workspace_id, type, description, metadata, timestamp)
       SELECT $8, $9, 'message_sent', $10, $11::jsonb, $7::timestamptz FROM message
     ),${
       // Left out rather than made conditional: an UPDATE of no rows still runs the
       // conversation table's statement triggers.
       options.bumpConversation ? ' bump AS (UPDATE conversations SET updated_at = $7::timestamptz WHERE id = $2),' : ''
     } commit_mode AS (
       -- Local to this statement's transaction; read when it commits.
       SELECT set_config('synchronous_commit', 'off', true) WHERE $12::boolean
     )
     SELECT message.* FROM message LEFT JOIN commit_mode ON true`,
    [
      message.id, message.conversationId, message.role, message.content, JSON.stringify(message.metadata), message.authorId, message.timestamp.toISOString(),
      newId('activity'), activity.workspaceId, activity.description, JSON.stringify(activity.metadata), options.deferFlush,
    ],
    // Prepared (planned once per connection): it runs twice per chat.
    options.bumpConversation ? 'store-message-bump' : 'store-message',
  );
  return rows[0]!;
}

/**
 * Merges `marks` into the message's metadata; returns the message as stored, or null when it
 * is gone. It commits synchronously, which also flushes every earlier deferred commit.
 */
export async function markMessage(db: Pool, id: string, marks: Record<string, unknown>): Promise<MessageRow | null> {
  // Raw on the plain pool, prepared: the chat send's hot path (every failed send), and a jsonb merge in SQL.
  const rows = await db.query<MessageRow>(
    `UPDATE chat_messages SET metadata = metadata || $2::jsonb WHERE id = $1 RETURNING ${messageColumns.sql}`,
    [id, JSON.stringify(marks)],
    'mark-message',
  );
  return rows[0] ?? null;
}

export function findMessage(db: Db, conversationId: string, messageId: string): Promise<ChatMessage | null> {
  return db.chatMessage.findFirst({ where: { id: messageId, conversationId } });
}

export function setPinned(db: Db, messageId: string, isPinned: boolean): Promise<ChatMessage> {
  return db.chatMessage.update({ where: { id: messageId }, data: { isPinned } });
}

/** Deletes the conversation's message; false when it has no such message. */
export async function deleteMessageRow(db: Db, conversationId: string, messageId: string): Promise<boolean> {
  const { count } = await db.chatMessage.deleteMany({ where: { id: messageId, conversationId } });
  return count > 0;
}

/**
 * The messages of these conversations, in the list's order and then each conversation's
 * (timestamp, id), `take` after `after` (the export's pages). Raw: one statement for a whole
 * list of conversations (childrenOfList); the cursor's (timestamp, id) is compared in SQL
 * (database timestamps carry microseconds, JavaScript dates only milliseconds).
 */
export const messagesOfConversations = (db: Db, conversationIds: string[], after: ChildCursor | null, take: number): Promise<MessageRow[]> =>
  db.$queryRaw<MessageRow[]>(
    childrenOfList(conversationIds, after, take, Prisma.sql`x."timestamp", x."id"`, (conversationId, past) => {
      const cursorId = Prisma.sql`${after?.id ?? null}::varchar`;
      const cursorAt = Prisma.sql`(SELECT a."timestamp" FROM "chat_messages" a WHERE a."id" = ${cursorId})`;
      return Prisma.sql`
        SELECT ${Prisma.raw(messageColumns.sql)} FROM "chat_messages" m
         WHERE m."conversation_id" = ${conversationId}
           AND (m."timestamp", m."id") > (${past(Prisma.sql`'-infinity'::timestamptz`, cursorAt)}, ${past(Prisma.sql`''`, cursorId)})
         ORDER BY m."timestamp", m."id" LIMIT ${take}`;
    }),
  );

/** Messages of the conversations `deleteConversationsBefore` would delete. */
export const countMessagesOfConversationsBefore = (db: Db, owners: Owners, cutoff: Date) =>
  db.chatMessage.count({ where: { conversation: conversationsBefore(owners, cutoff) } });
