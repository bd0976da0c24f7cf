/**
 * C6 send-message (§5.6, D11–D13). The user message is stored first and never lost: every
 * later failure answers with `data.userMessage`. The same code serves JSON and SSE: a
 * streaming caller passes `onDelta` and `cancel`, and `onStart` tells it when the
 * provider call begins (after every check that can still answer with a plain status).
 *
 * A failed send keeps its question, marked `metadata.failed` with the answer's error text,
 * so the user still sees it; like a reply cut short (`metadata.incomplete`), it is never
 * sent to a model again: the reply context's history window skips both.
 *
 * Durability of the user message. It is written before the provider call and must never be
 * lost once the client has been answered. When a reply is wanted, the client is never
 * answered right after that write: success answers after the assistant message's write,
 * and every failure answers after the user message is marked failed (`markFailed`, below).
 * Each of those is a synchronous commit, and a synchronous commit flushes the write-ahead
 * log up to its own commit record, which includes every earlier commit, the user
 * message's among them. So the user-message write itself need not wait for its WAL flush
 * (`synchronous_commit = off` for that one transaction): the wait is paid once per
 * request instead of twice, and not before the provider call. A crash of the database
 * before a later flush can lose the message only for a request that was never answered
 * (its connection fails, the client knows it was not sent). Without a reply wanted
 * (`getAiResponse: false`) the answer follows the user-message write, which then commits
 * synchronously as usual.
 */
import type { AppDeps } from '../../app-deps.js';
import { Prisma } from '../../generated/prisma/client.js';
import { AppError } from '../../http/errors.js';
import { isPlainObject } from '../../http/validation.js';
import { DecryptionError } from '../../lib/crypto.js';
import { newId } from '../../lib/ids.js';
import { type MessageRow, presentMessage } from '../../presenters/conversation.js';
import type { Preload } from '../auth/session.js';
import { type StoredIntegration, usableKey } from '../integrations/index.js';
import { searchEngineOf, searchMemories } from '../memories/search.js';
import { type ChatProviderName, resolveModel } from '../providers/catalog.js';
import { scrubKey } from '../providers/errors.js';
import { callProvider, type ChatReply, ProviderError, providerFor } from '../providers/index.js';
import { buildSystemPrompt, type ContextMemory, HISTORY_WINDOW, historyTurns } from './context.js';

export interface SendMessageInput {
  user: { id: string };
  conversation: { id: string; workspaceId: string; title: string; modelId: string };
  content: string;
  getAiResponse: boolean;
  /** Request flag; when undefined the workspace's autoRetrieve setting decides. */
  autoRetrieve?: boolean;
  /** The reply context as `replyContext` read it (before the new message was written). */
  context: ReplyContext;
  onStart?: () => void;
  onDelta?: (text: string) => void;
  cancel?: AbortSignal;
}

type Message = ReturnType<typeof presentMessage>;
export interface SendMessageResult {
  userMessage: Message;
  assistantMessage?: Message;
}

const preview = (content: string) => (content.length > 50 ? `${content.slice(0, 50)}...` : content);

/**
 * The message, its `message_sent` activity (§5.3) and the conversation bump (§5.16) in ONE
 * statement: atomic like a transaction, but a single round trip on the hot path of every chat.
 * Plain SQL on the pool (like the authentication lookup): Prisma's per-query CPU would be a
 * large share of what the proxy adds to a provider call.
 */
async function storeMessage(
  deps: AppDeps,
  conversation: SendMessageInput['conversation'],
  data: { role: 'user' | 'assistant'; content: string; authorId: string | null; metadata: Record<string, unknown>; timestamp: Date },
  options: { bumpConversation: boolean; /** see the file header: only when a synchronous commit follows before any answer */ deferFlush?: boolean },
): Promise<MessageRow> {
  const id = newId('msg');
  const activity = {
    description: `Message sent in '${conversation.title}': ${preview(data.content)}`,
    metadata: { conversationId: conversation.id, messageId: id, role: data.role },
  };
  const rows = await deps.db.query<MessageRow>(
    `WITH message AS (
       INSERT INTO chat_messages (id, conversation_id, role, content, is_pinned, metadata, author_id, timestamp)
       VALUES ($1, $2, $3, $4, false, $5::jsonb, $6::uuid, $7::timestamptz)
       RETURNING id, conversation_id AS "conversationId", role, content, is_pinned AS "isPinned", metadata, timestamp
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
      id, conversation.id, data.role, data.content, JSON.stringify(data.metadata), data.authorId, data.timestamp.toISOString(),
      newId('activity'), conversation.workspaceId, activity.description, JSON.stringify(activity.metadata), options.deferFlush ?? false,
    ],
    // Prepared (planned once per connection): it runs twice per chat.
    options.bumpConversation ? 'store-message-bump' : 'store-message',
  );
  return { ...rows[0]!, timestamp: new Date(rows[0]!.timestamp) };
}

export interface ReplyContext {
  /** The caller's integrations, connected or not (the model may be found through their model ids). */
  integrations: (StoredIntegration & { modelId: string | null })[];
  /** The active injected memories, in insertion order. */
  injected: ContextMemory[];
  /** The messages before the new one that a model may see (at most 9, so the window with it is 10), oldest first. */
  history: { role: string; content: string }[];
  autoRetrieve: boolean | null;
}

/**
 * Everything the reply needs besides the new message, as one JSON value (read with the
 * authentication lookup, before the new message is written). The history leaves out failed
 * questions and replies cut short with the predicate of the partial index
 * `chat_messages_context_idx`, written the same way so the planner can use that index.
 */
const replyContextSql = (userId: string, conversationId: string) => Prisma.sql`
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
                ORDER BY "timestamp" DESC, "id" DESC LIMIT ${HISTORY_WINDOW - 1}) h),
    'autoRetrieve',
      (SELECT w."auto_retrieve" FROM "conversations" c JOIN "workspaces" w ON w."id" = c."workspace_id" WHERE c."id" = ${conversationId}))`;

/** A cheap check of the reply context's shape: its four fields and their types, not every element's. */
const isReplyContext = (v: unknown): v is ReplyContext =>
  isPlainObject(v) && Array.isArray(v.integrations) && Array.isArray(v.injected) && Array.isArray(v.history) &&
  (v.autoRetrieve === null || typeof v.autoRetrieve === 'boolean');

/**
 * C6's preload: the reply context, read with the authentication lookup (and the
 * conversation's policy check), so a chat costs two round trips before the provider call
 * (that one and the user message's write).
 */
export const replyContext: Preload<ReplyContext, 'conversationId'> = {
  name: 'reply-context',
  sql: ({ userId, params }) => replyContextSql(userId, params.conversationId),
  check: isReplyContext,
};

/**
 * Marks the question of a failed send, with the answer's error text, and returns it as
 * stored. Rewriting its row commits synchronously, which also makes the message durable
 * (see the file header).
 */
async function markFailed(deps: AppDeps, stored: MessageRow, error: string): Promise<MessageRow> {
  const failed = { failed: true, error };
  const rows = await deps.db.query<MessageRow>(
    `UPDATE chat_messages SET metadata = metadata || $2::jsonb WHERE id = $1
     RETURNING id, conversation_id AS "conversationId", role, content, is_pinned AS "isPinned", metadata, timestamp`,
    [stored.id, JSON.stringify(failed)],
    'mark-failed',
  );
  // Deleted meanwhile: the answer still shows what was sent.
  const row = rows[0] ?? { ...stored, metadata: { ...(stored.metadata as object), ...failed } };
  return { ...row, timestamp: new Date(row.timestamp) };
}

/** A failed send, answered once its question is marked failed. */
class SendFailure {
  constructor(
    readonly status: number,
    readonly error: string,
    /** What a cut or a disconnect left of the reply, stored marked incomplete. */
    readonly partial?: Message,
  ) {}
}

/** The caller's key for `provider`: a saved one whose last test failed is re-tested first (usableKey). */
async function providerKey(deps: AppDeps, integrations: ReplyContext['integrations'], provider: ChatProviderName): Promise<string> {
  const integration = integrations.find((i) => i.provider === provider);
  if (!integration) throw new SendFailure(400, `No connected integration found for provider: ${provider}`);
  const key = await usableKey(deps, integration);
  if (key.apiKey === null) {
    throw new SendFailure(400, `Your ${provider} API key is saved, but its last connection test failed: ${key.errorMessage}`);
  }
  return key.apiKey;
}

export async function sendMessage(deps: AppDeps, input: SendMessageInput): Promise<SendMessageResult> {
  const { conversation, user } = input;
  const sentAt = new Date();
  // Everything the reply needs was preloaded with the authentication lookup.
  const reads = input.getAiResponse ? input.context : null;
  const stored = await storeMessage(
    deps, conversation, { role: 'user', content: input.content, authorId: user.id, metadata: {}, timestamp: sentAt },
    { bumpConversation: true, deferFlush: reads !== null },
  );
  const userMessage = presentMessage(stored);
  if (!reads) return { userMessage };

  try {
    const { integrations, injected, history, autoRetrieve } = reads;
    const model = resolveModel(conversation.modelId, deps.config.llm, integrations);
    const apiKey = model.provider === 'echo' ? '' : await providerKey(deps, integrations, model.provider);

    let retrieved: ContextMemory[] = [];
    const retrieving = input.autoRetrieve ?? autoRetrieve ?? false;
    if (retrieving) {
      const injectedIds = new Set(injected.map((m) => m.id));
      const { results } = await searchMemories(deps.db, searchEngineOf(deps), {
        userId: user.id,
        workspaceIds: [conversation.workspaceId],
        query: input.content,
        topK: deps.config.llm.retrievalTopK + injectedIds.size,
      });
      retrieved = results
        .map((hit) => hit.memory)
        .filter((m) => !injectedIds.has(m.id))
        .slice(0, deps.config.llm.retrievalTopK);
    }
    const prompt = buildSystemPrompt(injected, retrieved, deps.config.llm.contextMemoryChars);
    const turns = historyTurns([...history, { role: 'user', content: input.content }]);

    input.onStart?.();
    const started = performance.now();
    const meta = (reply: Pick<ChatReply, 'tokens' | 'modelVersion'>) => ({
      tokens: reply.tokens,
      model_version: reply.modelVersion || model.name,
      provider: model.provider,
      response_time_ms: Math.round(performance.now() - started),
      ...(retrieving ? { retrievedMemoryIds: prompt.retrievedIds } : {}),
    });
    // The reply sorts after its question even when both land in the same millisecond.
    const replyTime = () => new Date(Math.max(Date.now(), sentAt.getTime() + 1));
    let reply: ChatReply;
    try {
      reply = await callProvider(
        providerFor(model.provider, deps.config.llm),
        { apiKey, model: model.name, system: prompt.system, turns, onDelta: input.onDelta },
        { timeoutMs: deps.config.llm.timeoutMs, cancel: input.cancel },
      );
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      // What arrived before a cut or a disconnect is kept, marked incomplete (D12). Its commit
      // may defer its flush: marking the question failed follows before any answer.
      const partial = error.partial
        ? presentMessage(
            await storeMessage(deps, conversation, {
              role: 'assistant', content: error.partial, authorId: null, timestamp: replyTime(),
              metadata: { ...meta({ tokens: 0, modelVersion: model.name }), incomplete: true, error: error.kind },
            }, { bumpConversation: false, deferFlush: true }),
          )
        : undefined;
      const text = scrubKey(error.message, apiKey);
      if (error.kind === 'rate_limit') throw new SendFailure(429, `AI response failed: ${text}`, partial);
      if (error.kind === 'timeout') throw new SendFailure(504, 'AI response failed: Request timeout', partial);
      if (error.kind === 'aborted') throw new SendFailure(499, 'Client disconnected', partial);
      throw new SendFailure(502, `AI response failed: ${text}`, partial);
    }
    const assistant = await storeMessage(deps, conversation, {
      role: 'assistant', content: reply.content, authorId: null, timestamp: replyTime(), metadata: meta(reply),
    }, { bumpConversation: false });
    return { userMessage, assistantMessage: presentMessage(assistant) };
  } catch (error) {
    let failure: SendFailure;
    if (error instanceof SendFailure) failure = error;
    else if (error instanceof AppError) failure = new SendFailure(error.status, error.message);
    else if (error instanceof DecryptionError) failure = new SendFailure(500, `AI call failed: ${error.message}`);
    else {
      deps.logger.error({ err: error, conversationId: conversation.id }, 'send-message failed after the user message was stored');
      failure = new SendFailure(500, 'AI call failed: Internal error');
    }
    // Every failure carries data.userMessage, so the message must be durable first. When that
    // fails too (the database is gone), its error is the answer: a failure without a userMessage.
    const failed = presentMessage(await markFailed(deps, stored, failure.error));
    throw new AppError(failure.status, failure.error, failure.partial ? { userMessage: failed, assistantMessage: failure.partial } : { userMessage: failed });
  }
}
