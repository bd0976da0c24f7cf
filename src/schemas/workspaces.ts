import { z } from 'zod';
import { modelNameOf, SUPPORTED_MODELS } from '../services/providers/catalog.js';
import { boolean, integer, paging, text } from './common.js';

/** W2: DRF serializer fields, trimmed. */
export const createWorkspaceBody = z.object({
  name: text({ max: 255 }),
  description: text({ allowBlank: true }).optional(),
});

export const SYSTEM_PROMPT_MAX_CHARS = 4000;
export const RETRIEVAL_TOP_K_MAX = 20;

/**
 * A model of the catalogue (§5.7), as `model-<name>` or `<name>` (any case); stored as
 * /models/available spells it (`model-<name>`), which is what conversations carry.
 */
const catalogueModel = () =>
  text({ max: 50 }).transform((value, ctx) => {
    const name = modelNameOf(value).toLowerCase();
    const known = Object.keys(SUPPORTED_MODELS).find((k) => k.toLowerCase() === name);
    if (known) return `model-${known}`;
    ctx.addIssue({ code: 'custom', message: `"${value.slice(0, 60)}" is not a known model.` });
    return z.NEVER;
  });

/** W4 `settings`: each key optional; unknown keys are refused rather than silently dropped. */
export const workspaceSettingsBody = z.strictObject({
  /** Prepended to every chat of the workspace; blank or null removes it. */
  systemPrompt: text({ max: SYSTEM_PROMPT_MAX_CHARS, allowBlank: true, trim: false })
    .nullable()
    .transform((v) => (v === null || v.trim() === '' ? null : v))
    .optional(),
  defaultModelId: catalogueModel().nullable().optional(),
  autoRetrieve: boolean().optional(),
  autoExtract: boolean().optional(),
  retrievalTopK: integer(1, RETRIEVAL_TOP_K_MAX).optional(),
});

/** W4: key presence decides what changes; unlike DJ, values are validated (no 500 on null). */
export const updateWorkspaceBody = z.object({
  name: text({ max: 255 }).optional(),
  description: text({ allowBlank: true, trim: false }).nullable().optional(),
  settings: workspaceSettingsBody.optional(),
});

export const workspaceListQuery = paging;

/** W8: limit defaults to 10 and is capped at 100, as DJ does; a bad value is a 400, not a 500. */
export const activityQuery = z.object({
  limit: integer(1).optional().transform((n) => Math.min(n ?? 10, 100)),
  offset: integer(0).optional(),
});
