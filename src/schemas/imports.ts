import { z } from 'zod';

/** A true/false flag that also accepts the strings "true"/"false" (multipart sends strings). */
export const flag = (name: string, fallback: boolean) =>
  z
    .preprocess(
      (v) => (typeof v === 'string' && /^(true|false)$/i.test(v.trim()) ? v.trim().toLowerCase() === 'true' : v),
      z.boolean({ error: `${name} must be "true" or "false"` }),
    )
    .optional()
    .transform((v) => v ?? fallback);

/** M8. `mode` falls back to basic for any other value, as the original did. */
export const urlImportBody = z.object({
  url: z.string({ error: 'URL is required' }).trim().min(1, { error: 'URL is required' }).max(2048, { error: 'URL is too long' }),
  summarize: flag('summarize', true),
  mode: z
    .unknown()
    .optional()
    .transform((v): 'basic' | 'advanced' => (v === 'advanced' ? 'advanced' : 'basic'))
    .meta({ type: 'string', enum: ['basic', 'advanced'], description: 'advanced renders the page in a browser first; any other value counts as basic' }),
});

/** M9 text fields (the file itself arrives through multer). */
export const fileImportFields = z.object({
  summarize: flag('summarize', false),
});
