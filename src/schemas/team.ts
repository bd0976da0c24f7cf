import { z } from 'zod';
import { choice, msg } from './common.js';

/** Roles a member can be given; `owner` is not one of them (ownership is not transferable here). */
export const MEMBER_ROLES = ['admin', 'researcher', 'observer'] as const;
export const MEMBER_STATUSES = ['online', 'away', 'offline'] as const;

/** T2: string errors; `role` optional (D7), honoured, never owner. */
export const inviteBody = z.object({
  email: z.string({ error: (i) => (i.input === undefined || i.input === null ? 'Email is required' : 'Enter a valid email address.') })
    .trim()
    .min(1, { error: 'Email is required' })
    .max(254, { error: msg.maxLength(254) }),
  role: z.enum(MEMBER_ROLES, { error: (i) => msg.choice(i.input) }).optional(),
});

/** T3 (DRF field errors). */
export const roleBody = z.object({ role: choice(MEMBER_ROLES) });

/** T4 (DRF field errors). */
export const statusBody = z.object({ status: choice(MEMBER_STATUSES) });
