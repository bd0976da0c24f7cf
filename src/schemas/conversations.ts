import { z } from 'zod';
import { boolean, choice, paging, text } from './common.js';

/** Longest chat message accepted; larger bodies are refused by the body limit (413). */
export const MESSAGE_MAX_CHARS = 100_000;

export const createConversationBody = z.object({
  /** Required unless the workspace has a default model (its settings' defaultModelId). */
  modelId: text({ max: 50 }).optional(),
  title: text({ max: 255 }).optional(),
});

export const updateConversationBody = z.object({
  title: text({ max: 255, trim: false }).optional(),
  status: choice(['active', 'completed', 'archived'] as const).optional(),
});

export const listConversationsQuery = paging;

export const sendMessageBody = z.object({
  content: text({ max: MESSAGE_MAX_CHARS }),
  getAiResponse: boolean().optional(),
  /** Validated as the original does, then ignored: the message is always the user's. */
  role: choice(['user', 'assistant', 'system'] as const).optional(),
  /** D12: answer as Server-Sent Events. */
  stream: boolean().optional(),
  /** D13: add the workspace memories most relevant to this turn to the context. */
  autoRetrieve: boolean().optional(),
});

export const updateMessageBody = z.object({
  isPinned: boolean().optional(),
});

export const injectMemoryBody = z.object({
  memoryId: z.string({ error: 'memoryId required' }).trim().min(1, { error: 'memoryId required' }),
});
