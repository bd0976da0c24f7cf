import { z } from 'zod';
import { RETENTION_PERIODS } from '../services/settings/retention.js';

export { PROFILE_UPDATE_DESCRIPTION, profileUpdateBody } from './auth.js';

export const INVALID_RETENTION = `Invalid retention period. Must be one of: ${RETENTION_PERIODS.join(', ')}`;

/** S3. Empty `retentionPeriod` means "unchanged", as in the original; any other value must be known. */
export const retentionBody = z.object({
  autoStore: z.boolean({ error: 'autoStore must be true or false' }).nullish().transform((v) => v ?? undefined),
  retentionPeriod: z
    .union([z.enum(RETENTION_PERIODS), z.literal(''), z.null()], { error: INVALID_RETENTION })
    .optional()
    .transform((v) => v || undefined),
});
