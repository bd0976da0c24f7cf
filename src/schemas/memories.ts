/**
 * Memory request schemas (M1–M7). Decisions for bad input: NUL characters → 400 (PostgreSQL
 * cannot store them, in text or in JSON); at most 100 tags of at most 100 characters; a body
 * over BODY_LIMIT (default 1 MB) → 413, so a 5 MB memory is refused whole, never truncated.
 */
import { z } from 'zod';
import { integer, paging, text } from './common.js';

export const MAX_TAGS = 100;
const TAG_LENGTH = 100;

const tag = text({ max: TAG_LENGTH });
export const tagList = z
  .array(tag, { error: (issue) => (issue.input === null ? 'This field may not be null.' : `Expected a list of items but got type "${typeof issue.input}".`) })
  .max(MAX_TAGS, { error: `Ensure this field has no more than ${MAX_TAGS} elements.` })
  .transform((tags) => [...new Set(tags)]);

const hasNul = (value: unknown): boolean => JSON.stringify(value).includes('\\u0000');

const metadata = z
  .custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), {
    error: (issue) => `Expected a dictionary of items but got type "${Array.isArray(issue.input) ? 'list' : issue.input === null ? 'NoneType' : typeof issue.input}".`,
  })
  .refine((v) => !hasNul(v), { error: 'Null characters are not allowed.' })
  .meta({ type: 'object', additionalProperties: true, description: 'Free-form JSON object' });

/** M2: DRF serializer semantics (trimmed, not blank). */
export const createMemoryBody = z.object({
  title: text({ max: 255 }),
  content: text(),
  tags: tagList.optional(),
  metadata: metadata.optional(),
});

/** M4: every field optional; values kept as sent (not trimmed), but typed and never blank. */
export const updateMemoryBody = z.object({
  title: text({ max: 255, trim: false }).optional(),
  content: text({ trim: false }).optional(),
  tags: tagList.optional(),
  metadata: metadata.optional(),
});

/** `tags=a,b` or repeated `tags=a&tags=b`. */
const tagQuery = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean))
  .pipe(z.array(z.string()).max(MAX_TAGS, { error: `Ensure this field has no more than ${MAX_TAGS} elements.` }));

export const listMemoriesQuery = paging.extend({
  search: z.string().optional(),
  sortBy: z.string().optional(),
  tags: tagQuery.optional(),
});

export const MAX_TOP_K = 50;

/** M7 (DRF field errors). A blank or missing query returns recent memories (D5). */
export const searchMemoriesBody = z.object({
  query: text({ allowBlank: true, trim: false }).optional(),
  workspaceId: text({ max: 50 }).optional(),
  workspace_id: text({ max: 50 }).optional(),
  top_k: integer(1, MAX_TOP_K).optional(),
  tags: tagList.optional(),
});
