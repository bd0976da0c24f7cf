import type { AppDeps } from '../app-deps.js';
import { AppError } from '../lib/errors.js';
import { sendVersioned } from '../http/envelope.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { openEventStream, wantsEventStream } from '../http/sse.js';
import { conversation, workspace } from '../policies/index.js';
import { presentConversation, presentConversationListItem, presentExtraction, presentMessage, presentSentMessages } from '../presenters/conversation.js';
import {
  createConversationBody, injectMemoryBody, listConversationsQuery, sendMessageBody, updateConversationBody, updateMessageBody,
} from '../schemas/conversations.js';
import { replyContext, SendMessageFailed, sendMessage } from '../services/chat/send-message.js';
import * as conversations from '../services/conversations/index.js';
import { conversationListVersion, conversationVersion, pollEtag } from '../services/poll-etags.js';
import { closeConversation } from '../services/conversations/close.js';
import { MessageResult } from '../schemas/responses/common.js';
import {
  Conversation, ConversationClosed, ConversationList, ConversationReopened, ExtractionQueued, InjectionToggled, Message, MessageFailed, MessageSent, StreamCitations,
  StreamDelta, StreamError,
} from '../schemas/responses/conversations.js';

const tag = 'conversations';

/** A failed send as the client gets it: its status and text, with the messages as stored. */
const answerOf = (error: unknown) =>
  error instanceof SendMessageFailed ? new AppError(error.status, error.error, presentSentMessages(error.messages)) : error;

export function conversationRoutes(_deps: AppDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'get', path: '/workspaces/:workspaceId/conversations', operationId: 'listConversations', contractId: 'C1', response: ConversationList, tag, access: 'user', policy: workspace.can('read-conversations'),
      summary: 'Conversations of a workspace, most recently updated first',
      query: listConversationsQuery,
      responses: { 403: 'Access denied', 404: 'Workspace not found' },
      // Polled (§1.13): the ETag derives from the list's version, so a revalidation builds nothing.
      raw: true,
      preload: conversationListVersion,
      handler: async ({ deps, subject, query, res, preloaded }) =>
        sendVersioned(res, pollEtag('conversations', subject.id, preloaded, query), async () => {
          const { rows, total } = await conversations.listConversations(deps.prisma, subject.id, query);
          return { conversations: rows.map(presentConversationListItem), total };
        }),
    }),
    defineRoute({
      method: 'post', path: '/workspaces/:workspaceId/conversations', operationId: 'createConversation', contractId: 'C2', response: Conversation, tag, access: 'user', policy: workspace.can('create-conversation'), status: 201,
      summary: 'Start a conversation with a model (modelId as listed by /models/available; the workspace\'s default model when absent)',
      body: createConversationBody, bodyErrors: 'fields',
      responses: { 400: 'Field errors', 403: 'Access denied', 404: 'Workspace not found' },
      handler: async ({ deps, user, subject, body }) => presentConversation(await conversations.createConversation(deps.prisma, user.id, subject.id, body)),
    }),
    defineRoute({
      method: 'get', path: '/conversations/:conversationId', operationId: 'getConversation', contractId: 'C3', response: Conversation, tag, access: 'user', policy: conversation.can('read'),
      summary: 'A conversation with its messages (oldest first) and injected memories',
      responses: { 403: 'Access denied', 404: 'Conversation not found' },
      // Polled (§1.13) while open: the ETag derives from the conversation's version.
      raw: true,
      preload: conversationVersion,
      handler: async ({ deps, subject, res, preloaded }) =>
        sendVersioned(res, pollEtag('conversation', subject.id, preloaded), async () => presentConversation(await conversations.readConversation(deps.prisma, subject.id))),
    }),
    defineRoute({
      method: 'put', path: '/conversations/:conversationId', operationId: 'updateConversation', contractId: 'C4', response: Conversation, tag, access: 'user', policy: conversation.can('update'),
      summary: 'Rename a conversation or set its status',
      body: updateConversationBody,
      responses: { 400: 'Invalid value', 403: 'Access denied', 404: 'Conversation not found' },
      handler: async ({ deps, subject, body }) => presentConversation(await conversations.updateConversation(deps.prisma, subject.id, body)),
    }),
    defineRoute({
      method: 'delete', path: '/conversations/:conversationId', operationId: 'deleteConversation', contractId: 'C5', response: MessageResult, tag, access: 'user', policy: conversation.can('delete'),
      summary: 'Delete a conversation with its messages and injection links',
      responses: { 403: 'Access denied', 404: 'Conversation not found' },
      handler: async ({ deps, subject }) => {
        await conversations.deleteConversation(deps.prisma, subject.id);
        return { message: 'Conversation deleted successfully' };
      },
    }),
    defineRoute({
      method: 'post', path: '/conversations/:conversationId/messages', operationId: 'sendMessage', contractId: 'C6', response: MessageSent, tag, access: 'user', policy: conversation.can('send-message'), preload: replyContext, status: 201,
      summary:
        'Send a message and get the model\'s reply. With "stream": true or Accept: text/event-stream the reply streams as ' +
        'Server-Sent Events: `citations` {citations} (the memories in the prompt), `delta` {text}…, then `done` {userMessage, assistantMessage} ' +
        'or `error` {status, error, userMessage}.',
      body: sendMessageBody, bodyErrors: 'fields',
      responses: {
        200: {
          description: 'The reply as Server-Sent Events, when streaming was asked for: citations, delta events, then done or error',
          events: { citations: StreamCitations, delta: StreamDelta, done: MessageSent, error: StreamError },
        },
        400: { description: 'Field errors (data null), or no usable integration for the provider (data.userMessage)', data: MessageFailed.nullable() },
        403: 'Access denied', 404: 'Conversation not found',
        429: { description: 'AI response failed: the provider\'s rate limit', data: MessageFailed },
        500: { description: 'AI call failed: the key cannot be decrypted, or an internal error', data: MessageFailed.nullable() },
        502: { description: 'AI response failed: the provider\'s error', data: MessageFailed },
        504: { description: 'AI response failed: Request timeout', data: MessageFailed },
      },
      handler: async ({ deps, user, subject, body, req, res, preloaded }) => {
        const input = {
          user, conversation: subject, content: body.content, getAiResponse: body.getAiResponse ?? true, autoRetrieve: body.autoRetrieve, context: preloaded,
        };
        if (!wantsEventStream(req, body.stream) || !input.getAiResponse) {
          try {
            return presentSentMessages(await sendMessage(deps, input));
          } catch (error) {
            throw answerOf(error);
          }
        }

        let stream: ReturnType<typeof openEventStream> | undefined;
        const cancel = new AbortController();
        try {
          const result = await sendMessage(deps, {
            ...input,
            cancel: cancel.signal,
            onStart: (citations) => {
              stream = openEventStream(req, res);
              stream.closed.addEventListener('abort', () => cancel.abort(), { once: true });
              // First, so a client can show the sources while the reply streams.
              stream.send('citations', { citations });
            },
            onDelta: (text) => stream?.send('delta', { text }),
          });
          stream?.send('done', presentSentMessages(result));
          stream?.end();
        } catch (thrown) {
          const error = answerOf(thrown);
          // Before the stream opened, failures answer with their status as JSON.
          if (!stream || !(error instanceof AppError)) throw error;
          stream.send('error', { status: error.status, error: error.error, ...(error.data as object) });
          stream.end();
        }
        return undefined;
      },
    }),
    defineRoute({
      method: 'put', path: '/conversations/:conversationId/messages/:messageId', operationId: 'updateMessage', contractId: 'C7', response: Message, tag, access: 'user', policy: conversation.can('edit-messages'),
      summary: 'Pin or unpin a message',
      body: updateMessageBody,
      responses: { 403: 'Access denied', 404: 'Conversation not found | Message not found' },
      handler: async ({ deps, subject, params, body }) => presentMessage(await conversations.updateMessage(deps.prisma, subject.id, params.messageId, body)),
    }),
    defineRoute({
      method: 'delete', path: '/conversations/:conversationId/messages/:messageId', operationId: 'deleteMessage', contractId: 'C8', response: MessageResult, tag, access: 'user', policy: conversation.can('edit-messages'),
      summary: 'Delete a message',
      responses: { 403: 'Access denied', 404: 'Conversation not found | Message not found' },
      handler: async ({ deps, subject, params }) => {
        await conversations.deleteMessage(deps.prisma, subject.id, params.messageId);
        return { message: 'Message deleted successfully' };
      },
    }),
    defineRoute({
      method: 'post', path: '/conversations/:conversationId/inject-memory', operationId: 'injectMemory', contractId: 'C9', response: MessageResult, tag, access: 'user', policy: conversation.can('update'),
      summary: 'Inject a memory of the same workspace into the conversation context (get-or-create)',
      body: injectMemoryBody,
      responses: { 400: 'memoryId required', 403: 'Access denied', 404: 'Conversation not found | Memory not found' },
      handler: async ({ deps, subject, body }) => {
        await conversations.injectMemory(deps.prisma, subject, body.memoryId);
        return { message: 'Memory injected successfully' };
      },
    }),
    defineRoute({
      method: 'delete', path: '/conversations/:conversationId/inject-memory/:memoryId', operationId: 'removeInjectedMemory', contractId: 'C10', response: MessageResult, tag, access: 'user', policy: conversation.can('update'),
      summary: 'Remove an injected memory from the conversation',
      responses: { 403: 'Access denied', 404: 'Conversation not found | Memory injection not found' },
      handler: async ({ deps, subject, params }) => {
        await conversations.removeInjection(deps.prisma, subject.id, params.memoryId);
        return { message: 'Memory removed successfully' };
      },
    }),
    defineRoute({
      method: 'put', path: '/conversations/:conversationId/inject-memory/:memoryId/toggle', operationId: 'toggleInjectedMemory', contractId: 'C11', response: InjectionToggled, tag, access: 'user', policy: conversation.can('update'),
      summary: 'Pause or re-activate an injected memory',
      responses: { 403: 'Access denied', 404: 'Conversation not found | Memory injection not found' },
      handler: async ({ deps, subject, params }) => {
        const isActive = await conversations.toggleInjection(deps.prisma, subject.id, params.memoryId);
        return { memoryId: params.memoryId, isActive, message: isActive ? 'Memory activated' : 'Memory paused' };
      },
    }),
    defineRoute({
      method: 'post', path: '/conversations/:conversationId/close', operationId: 'closeConversation', contractId: 'C12', response: ConversationClosed, tag, access: 'user', policy: conversation.can('update'),
      summary: 'Close the conversation, keeping its transcript as one memory (unless the user turned autoStore off); with the workspace\'s autoExtract on, its facts are extracted instead, after the answer',
      responses: { 403: 'Access denied', 404: 'Conversation not found' },
      handler: async ({ deps, user, subject }) => {
        const { conversation, memory } = await closeConversation(deps.prisma, deps, user, subject.id);
        return {
          conversation: presentConversation(await conversations.withResolvedCitations(deps.prisma, conversation)),
          memory,
          message: 'Conversation closed and summarized successfully',
        };
      },
    }),
    defineRoute({
      method: 'post', path: '/conversations/:conversationId/extract', operationId: 'extractConversation', response: ExtractionQueued, tag, access: 'user', policy: conversation.can('extract'), status: 202,
      summary:
        'Queue the extraction of the conversation\'s facts into memories with the caller\'s key: consolidated against similar memories (ADD, UPDATE, ' +
        'DELETE, NONE), each change a version with its provenance. Runs after the answer; the conversation\'s `extraction` tells how it went.',
      responses: { 403: 'Access denied', 404: 'Conversation not found' },
      handler: async ({ deps, user, subject }) => ({
        extraction: presentExtraction(await conversations.extractConversation(deps.prisma, deps.extractions, subject, user.id)),
        message: 'Extraction queued',
      }),
    }),
    defineRoute({
      method: 'post', path: '/conversations/:conversationId/reopen', operationId: 'reopenConversation', contractId: 'C13', response: ConversationReopened, tag, access: 'user', policy: conversation.can('update'),
      summary: 'Reopen a closed conversation',
      responses: { 403: 'Access denied', 404: 'Conversation not found' },
      handler: async ({ deps, subject }) => ({ conversation: presentConversation(await conversations.reopenConversation(deps.prisma, subject.id)), message: 'Conversation reopened successfully' }),
    }),
  ];
}
