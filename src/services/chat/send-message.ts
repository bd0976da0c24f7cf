/**
 * C6 send-message (§5.6, D11–D13). The user message is stored first and never lost: every
 * later failure answers with `data.userMessage`. The same code serves JSON and SSE: a
 * streaming caller passes `onDelta` and `cancel`, and `onStart` tells it when the
 * provider call begins (after every check that can still answer with a plain status), with
 * the citations of the reply to come.
 *
 * Citations: every reply (a reply cut short too) records in `metadata.citations` the
 * memories its prompt held, injected or retrieved, in prompt order; a memory the context
 * budget left out is not cited.
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
import { markMessage, type MessageRow, type ReplyContext, replyContextSql, storeMessage } from '../../data/chat-messages.js';
import { AppError } from '../../lib/errors.js';
import { isPlainObject } from '../../lib/objects.js';
import { DecryptionError } from '../../lib/crypto.js';
import { newId } from '../../lib/ids.js';
import type { Preload } from '../../data/sessions.js';
import { type StoredIntegration, usableKey } from '../integrations/index.js';
import { type SearchHit, searchEngineOf, searchMemories } from '../memories/search.js';
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
  onStart?: (citations: Citation[]) => void;
  onDelta?: (text: string) => void;
  cancel?: AbortSignal;
}

/** A memory that was in a reply's prompt; `memoryId` is null once the memory is deleted (read-time). */
export interface Citation {
  memoryId: string | null;
  title: string;
  /** The retrieval score in [0, 1]; null for an injected memory (chosen, not ranked). */
  score: number | null;
  how: 'injected' | 'retrieved';
}

/** The citations of a prompt: the memories `buildSystemPrompt` used, injected first. */
function citationsOf(injected: ContextMemory[], retrieved: SearchHit[], used: { injectedIds: string[]; retrievedIds: string[] }): Citation[] {
  const injectedUsed = new Set(used.injectedIds);
  const retrievedUsed = new Set(used.retrievedIds);
  return [
    ...injected.filter((m) => injectedUsed.has(m.id)).map((m): Citation => ({ memoryId: m.id, title: m.title, score: null, how: 'injected' })),
    ...retrieved
      .filter((hit) => retrievedUsed.has(hit.memory.id))
      .map((hit): Citation => ({ memoryId: hit.memory.id, title: hit.memory.title, score: hit.score, how: 'retrieved' })),
  ];
}

/** The messages of a send as stored: the question, and the reply or what arrived of it. */
export interface SentMessages {
  userMessage: MessageRow;
  assistantMessage?: MessageRow;
}

/**
 * A send that failed after its question was stored: the status and text to answer with, and
 * the messages as stored (the question marked failed, and any part of the reply kept).
 */
export class SendMessageFailed extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly messages: SentMessages,
  ) {
    super(error);
  }
}

const preview = (content: string) => (content.length > 50 ? `${content.slice(0, 50)}...` : content);

/**
 * Stores one message of the send with its `message_sent` activity (§5.3) and, for the
 * question, the conversation bump (§5.16): one statement, a single round trip on the hot path
 * of every chat (data/chat-messages.ts).
 */
function store(
  db: AppDeps['db'],
  conversation: SendMessageInput['conversation'],
  data: { role: 'user' | 'assistant'; content: string; authorId: string | null; metadata: Record<string, unknown>; timestamp: Date },
  options: { bumpConversation: boolean; /** see the file header: only when a synchronous commit follows before any answer */ deferFlush?: boolean },
): Promise<MessageRow> {
  const id = newId('msg');
  return storeMessage(
    db,
    { id, conversationId: conversation.id, ...data },
    {
      workspaceId: conversation.workspaceId,
      description: `Message sent in '${conversation.title}': ${preview(data.content)}`,
      metadata: { conversationId: conversation.id, messageId: id, role: data.role },
    },
    { bumpConversation: options.bumpConversation, deferFlush: options.deferFlush ?? false },
  );
}

/** A cheap check of the reply context's shape: its four fields and their types, not every element's. */
const isReplyContext = (v: unknown): v is ReplyContext =>
  isPlainObject(v) && Array.isArray(v.integrations) && Array.isArray(v.injected) && Array.isArray(v.history) &&
  (v.settings === null || (isPlainObject(v.settings) && typeof v.settings.autoRetrieve === 'boolean' && typeof v.settings.retrievalTopK === 'number'));

/**
 * C6's preload: the reply context, read with the authentication lookup (and the
 * conversation's policy check), so a chat costs two round trips before the provider call
 * (that one and the user message's write). Its history holds at most 9 messages, so the
 * window with the new one is 10.
 */
export const replyContext: Preload<ReplyContext, 'conversationId'> = {
  name: 'reply-context',
  sql: ({ userId, params }) => replyContextSql(userId, params.conversationId, HISTORY_WINDOW - 1),
  check: isReplyContext,
};

/**
 * Marks the question of a failed send, with the answer's error text, and returns it as
 * stored. Rewriting its row commits synchronously, which also makes the message durable
 * (see the file header).
 */
async function markFailed(db: AppDeps['db'], stored: MessageRow, error: string): Promise<MessageRow> {
  const failed = { failed: true, error };
  // Deleted meanwhile: the answer still shows what was sent.
  return (await markMessage(db, stored.id, failed)) ?? { ...stored, metadata: { ...(stored.metadata as object), ...failed } };
}

/** A failed send, answered once its question is marked failed. */
class SendFailure {
  constructor(
    readonly status: number,
    readonly error: string,
    /** What a cut or a disconnect left of the reply, stored marked incomplete. */
    readonly partial?: MessageRow,
  ) {}
}

/** The caller's key for `provider`: a saved one whose last test failed is re-tested first (usableKey). */
async function providerKey(deps: AppDeps, integrations: ReplyContext['integrations'], provider: ChatProviderName): Promise<string> {
  const integration = integrations.find((i) => i.provider === provider);
  if (!integration) throw new SendFailure(400, `No connected integration found for provider: ${provider}`);
  const key = await usableKey(deps.prisma, deps.config, integration);
  if (key.apiKey === null) {
    const saved = integration.apiKey === null ? `Your ${provider} integration is saved` : `Your ${provider} API key is saved`;
    throw new SendFailure(400, `${saved}, but its last connection test failed: ${key.errorMessage}`);
  }
  return key.apiKey;
}

export async function sendMessage(deps: AppDeps, input: SendMessageInput): Promise<SentMessages> {
  const { conversation, user } = input;
  const sentAt = new Date();
  // Everything the reply needs was preloaded with the authentication lookup.
  const reads = input.getAiResponse ? input.context : null;
  const userMessage = await store(
    deps.db, conversation, { role: 'user', content: input.content, authorId: user.id, metadata: {}, timestamp: sentAt },
    { bumpConversation: true, deferFlush: reads !== null },
  );
  if (!reads) return { userMessage };

  try {
    const { integrations, injected, history, settings } = reads;
    const model = resolveModel(conversation.modelId, deps.config.llm, integrations);
    const apiKey = model.provider === 'echo' ? '' : await providerKey(deps, integrations, model.provider);

    let retrieved: SearchHit[] = [];
    const retrieving = input.autoRetrieve ?? settings?.autoRetrieve ?? false;
    if (retrieving) {
      const topK = settings?.retrievalTopK ?? deps.config.llm.retrievalTopK;
      const injectedIds = new Set(injected.map((m) => m.id));
      const { results } = await searchMemories(deps.db, searchEngineOf(deps), {
        userId: user.id,
        workspaceIds: [conversation.workspaceId],
        query: input.content,
        topK: topK + injectedIds.size,
      });
      retrieved = results.filter((hit) => !injectedIds.has(hit.memory.id)).slice(0, topK);
    }
    const prompt = buildSystemPrompt(injected, retrieved.map((hit) => hit.memory), deps.config.llm.contextMemoryChars, settings?.systemPrompt ?? null);
    const citations = citationsOf(injected, retrieved, prompt);
    const turns = historyTurns([...history, { role: 'user', content: input.content }]);

    input.onStart?.(citations);
    const started = performance.now();
    const meta = (reply: Pick<ChatReply, 'tokens' | 'modelVersion'>) => ({
      tokens: reply.tokens,
      model_version: reply.modelVersion || model.name,
      provider: model.provider,
      response_time_ms: Math.round(performance.now() - started),
      ...(retrieving ? { retrievedMemoryIds: prompt.retrievedIds } : {}),
      citations,
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
        ? await store(deps.db, conversation, {
            role: 'assistant', content: error.partial, authorId: null, timestamp: replyTime(),
            metadata: { ...meta({ tokens: 0, modelVersion: model.name }), incomplete: true, error: error.kind },
          }, { bumpConversation: false, deferFlush: true })
        : undefined;
      const text = scrubKey(error.message, apiKey);
      if (error.kind === 'rate_limit') throw new SendFailure(429, `AI response failed: ${text}`, partial);
      if (error.kind === 'timeout') throw new SendFailure(504, 'AI response failed: Request timeout', partial);
      if (error.kind === 'aborted') throw new SendFailure(499, 'Client disconnected', partial);
      throw new SendFailure(502, `AI response failed: ${text}`, partial);
    }
    const assistantMessage = await store(deps.db, conversation, {
      role: 'assistant', content: reply.content, authorId: null, timestamp: replyTime(), metadata: meta(reply),
    }, { bumpConversation: false });
    return { userMessage, assistantMessage };
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
    const failed = await markFailed(deps.db, userMessage, failure.error);
    throw new SendMessageFailed(failure.status, failure.error, failure.partial ? { userMessage: failed, assistantMessage: failure.partial } : { userMessage: failed });
  }
}
