import { z } from 'zod';
import { jsonObject, timestamp } from './common.js';

const STATUSES = ['active', 'completed', 'archived'] as const;

const userMessageExample = {
  id: 'msg-1a2b3c4d5e6f', conversationId: 'conv-0a1b2c3d4e5f', role: 'user', content: 'What did we decide about the launch?',
  timestamp: '2025-12-08T06:43:35.123Z', isPinned: false, metadata: {},
};
const citationExample = { memoryId: 'memory-1a2b3c4d5e6f', title: 'Launch plan', score: 0.0328, how: 'retrieved' };
const assistantMessageExample = {
  id: 'msg-2b3c4d5e6f7a', conversationId: 'conv-0a1b2c3d4e5f', role: 'assistant', content: 'You decided to launch on Friday.',
  timestamp: '2025-12-08T06:43:36.456Z', isPinned: false,
  metadata: { tokens: 42, model_version: 'gpt-4o', provider: 'openai', response_time_ms: 812, citations: [citationExample] },
};

export const Citation = z
  .object({
    memoryId: z.string().nullable().meta({ description: 'null once the memory is deleted' }),
    title: z.string().meta({ description: 'The memory title when the reply was made' }),
    score: z.number().min(0).max(1).nullable().meta({ description: 'The retrieval score; null for an injected memory' }),
    how: z.enum(['injected', 'retrieved']),
  })
  .meta({ id: 'Citation', description: 'A memory that was in the prompt of a reply', examples: [citationExample] });

/** Message metadata: free-form, with the citations of an assistant reply typed. */
const messageMetadata = z.object({ citations: z.array(Citation).optional() }).catchall(z.unknown());

export const Message = z
  .object({
    id: z.string(),
    conversationId: z.string(),
    role: z.enum(['user', 'assistant', 'system']),
    content: z.string(),
    timestamp: timestamp(),
    isPinned: z.boolean(),
    metadata: messageMetadata.meta({
      description:
        'Empty for user messages; assistant replies carry tokens, model_version, provider, response_time_ms, citations (the memories in the prompt; ' +
        'replies made before citations were recorded have none) and, with auto-retrieval, retrievedMemoryIds; ' +
        'a failed question carries failed and error, a reply cut short incomplete and error',
    }),
  })
  .meta({ id: 'Message', examples: [userMessageExample] });

export const InjectedMemory = z
  .object({ id: z.string().meta({ description: 'The memory id' }), isActive: z.boolean() })
  .meta({ id: 'InjectedMemory', examples: [{ id: 'memory-1a2b3c4d5e6f', isActive: true }] });

/** The fact extraction of a conversation (issue 19): queued by a close with autoExtract, or by POST …/extract. */
export const Extraction = z
  .object({
    status: z.enum(['pending', 'running', 'done', 'fallback']).meta({
      description: 'pending/running: queued or in progress; done: the facts were consolidated into memories; fallback: the model could not be used, the transcript memory was kept instead (see error)',
    }),
    error: z.string().nullable().meta({ description: 'Why the last run fell back' }),
    throughMessageId: z.string().nullable().meta({ description: 'The last message a finished extraction covered: a later run reads only what follows' }),
    result: jsonObject().meta({ description: 'The last run: facts, added, updated, deleted, unchanged, tokens (as the provider counted them), calls; transcriptMemoryId after a fallback' }),
    requestedAt: timestamp(),
    finishedAt: timestamp().nullable(),
  })
  .meta({
    id: 'Extraction',
    examples: [{
      status: 'done', error: null, throughMessageId: 'msg-0a1b2c3d4e5f', result: { facts: 3, added: 1, updated: 1, deleted: 0, unchanged: 1, tokens: 812, calls: 2 },
      requestedAt: '2025-12-08T06:43:35.123Z', finishedAt: '2025-12-08T06:43:38.456Z',
    }],
  });

export const ExtractionQueued = z
  .object({ extraction: Extraction, message: z.string() })
  .meta({ id: 'ExtractionQueued', examples: [{ extraction: { status: 'pending', error: null, throughMessageId: null, result: {}, requestedAt: '2025-12-08T06:43:35.123Z', finishedAt: null }, message: 'Extraction queued' }] });

export const Conversation = z
  .object({
    id: z.string(),
    workspaceId: z.string(),
    title: z.string(),
    modelId: z.string(),
    messages: z.array(Message).meta({ description: 'Oldest first' }),
    injectedMemories: z.array(InjectedMemory),
    extraction: Extraction.nullable().meta({ description: 'The fact extraction; null when none was asked for' }),
    status: z.enum(STATUSES),
    createdAt: timestamp(),
    updatedAt: timestamp(),
  })
  .meta({
    id: 'Conversation',
    examples: [{
      id: 'conv-0a1b2c3d4e5f', workspaceId: 'workspace-0a1b2c3d4e5f', title: 'Launch planning', modelId: 'model-gpt-4o',
      messages: [userMessageExample, assistantMessageExample], injectedMemories: [{ id: 'memory-1a2b3c4d5e6f', isActive: true }], extraction: null,
      status: 'active', createdAt: '2025-12-08T06:40:00.000Z', updatedAt: '2025-12-08T06:43:35.123Z',
    }],
  });

export const ConversationSummary = z
  .object({
    id: z.string(),
    workspaceId: z.string(),
    title: z.string(),
    modelId: z.string(),
    status: z.enum(STATUSES),
    messageCount: z.int(),
    lastUpdated: timestamp(),
    createdAt: timestamp(),
  })
  .meta({
    id: 'ConversationSummary',
    description: 'A conversation as lists show it (no messages)',
    examples: [{
      id: 'conv-0a1b2c3d4e5f', workspaceId: 'workspace-0a1b2c3d4e5f', title: 'Launch planning', modelId: 'model-gpt-4o', status: 'active',
      messageCount: 2, lastUpdated: '2025-12-08T06:43:35.123Z', createdAt: '2025-12-08T06:40:00.000Z',
    }],
  });

export const ConversationList = z.object({ conversations: z.array(ConversationSummary), total: z.int() }).meta({ id: 'ConversationList' });

export const MessageSent = z
  .object({ userMessage: Message, assistantMessage: Message.optional().meta({ description: 'Absent when getAiResponse is false' }) })
  .meta({ id: 'MessageSent', examples: [{ userMessage: userMessageExample, assistantMessage: assistantMessageExample }] });

/** What a failed send carries in `data`: the question is kept (and a reply cut short, when any arrived). */
export const MessageFailed = z
  .object({ userMessage: Message, assistantMessage: Message.optional().meta({ description: 'What arrived of a reply cut short, marked incomplete' }) })
  .meta({ id: 'MessageFailed', examples: [{ userMessage: { ...userMessageExample, metadata: { failed: true, error: 'AI response failed: Request timeout' } } }] });

/** Events of a streamed reply (described inline in the document: x-sse-events). */
export const StreamCitations = z
  .object({ citations: z.array(Citation) })
  .meta({ description: 'The memories in the prompt, sent before the first delta', examples: [{ citations: [citationExample] }] });

export const StreamDelta = z.object({ text: z.string() }).meta({ description: 'A piece of the reply', examples: [{ text: 'You decided' }] });

export const StreamError = z
  .object({ status: z.int(), error: z.string(), userMessage: Message, assistantMessage: Message.optional() })
  .meta({ description: 'The failure, with the HTTP status it would have had' });

export const InjectionToggled = z
  .object({ memoryId: z.string(), isActive: z.boolean(), message: z.string() })
  .meta({ id: 'InjectionToggled', examples: [{ memoryId: 'memory-1a2b3c4d5e6f', isActive: false, message: 'Memory paused' }] });

export const ConversationClosed = z
  .object({
    conversation: Conversation,
    memory: z.object({ id: z.string(), title: z.string(), snippet: z.string() }).nullable().meta({ description: 'The transcript memory; null when nothing was stored' }),
    message: z.string(),
  })
  .meta({ id: 'ConversationClosed' });

export const ConversationReopened = z.object({ conversation: Conversation, message: z.string() }).meta({ id: 'ConversationReopened' });
