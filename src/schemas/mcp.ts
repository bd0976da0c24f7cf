/** Legacy MCP request schemas (L2–L9): snake_case fields, string errors as in §2.9. */
import { z } from 'zod';
import { integer, text } from './common.js';
import { tagList } from './memories.js';

const scope = {
  workspace_id: text({ max: 50 }).optional(),
  conversation_id: text({ max: 50 }).optional(),
};

const required = (message: string) =>
  z.string({ error: message }).refine((v) => v.trim().length > 0, { error: message }).refine((v) => !v.includes('\u0000'), { error: 'Null characters are not allowed.' });

const metadata = z
  .custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), { error: 'metadata must be an object' })
  .refine((v) => !JSON.stringify(v).includes('\\u0000'), { error: 'Null characters are not allowed.' })
  .meta({ type: 'object', additionalProperties: true, description: 'Free-form JSON object' });

const memoryItem = {
  text: required('text required'),
  title: text({ max: 255 }).optional(),
  tags: tagList.optional(),
  metadata: metadata.optional(),
};

export const chatBody = z.object({ conversation_id: required('conversation_id and message required'), message: required('conversation_id and message required') });
export const rememberBody = z.object({ ...scope, ...memoryItem });
export const batchRememberBody = z.object({
  ...scope,
  memories: z.array(z.object(memoryItem), { error: 'memories array required' }).min(1, { error: 'memories array required' }).max(100, { error: 'At most 100 memories per batch' }),
});
export const searchBody = z.object({ ...scope, query: required('query required'), top_k: integer(1, 50).optional(), tags: tagList.optional() });
export const injectBody = z.object({ ...scope, max_memories: integer(1, 50).optional() });
export const listQuery = z.object({ ...scope, limit: integer(1, 100).optional(), offset: integer(0).optional() });
export const scopeQuery = z.object(scope);
export const scopeBody = z.object(scope);
