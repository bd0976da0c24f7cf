import { z } from 'zod';
import { integer, paging, text } from './common.js';

/** W2: DRF serializer fields, trimmed. */
export const createWorkspaceBody = z.object({
  name: text({ max: 255 }),
  description: text({ allowBlank: true }).optional(),
});

/** W4: key presence decides what changes; unlike DJ, values are validated (no 500 on null). */
export const updateWorkspaceBody = z.object({
  name: text({ max: 255 }).optional(),
  description: text({ allowBlank: true, trim: false }).nullable().optional(),
});

export const workspaceListQuery = paging;

/** W8: limit defaults to 10 and is capped at 100, as DJ does; a bad value is a 400, not a 500. */
export const activityQuery = z.object({
  limit: integer(1).optional().transform((n) => Math.min(n ?? 10, 100)),
  offset: integer(0).optional(),
});
