import { z } from 'zod';
import { API_KEY_SCOPES } from '../policies/index.js';
import { email, msg, text } from './common.js';

// Passwords are trimmed like DRF does; the upper bound keeps hashing cheap.
const password = () => text({ min: 8, max: 1024 });

export const registerBody = z.object({
  name: text({ max: 255 }),
  email: email(),
  password: password(),
});

export const loginBody = z.object({
  email: email(),
  password: text({ max: 1024 }),
});

export const refreshBody = z.object({
  refresh: z.string({ error: 'Refresh token required' }).min(1, { error: 'Refresh token required' }),
});

export const logoutBody = z.object({
  refresh: z.string({ error: 'Token is invalid or expired' }).optional(),
});

/** A6 and S2 (OpenAPI description). */
export const PROFILE_UPDATE_DESCRIPTION =
  'A new email is accepted when the password sign-in of this session is recent (REAUTH_WINDOW, 15 minutes by default; refreshing keeps the sign-in time) or when currentPassword is sent and right; otherwise 403. Sending the current email is no change.';

export const profileUpdateBody = z.object({
  name: text({ max: 255, trim: false, allowBlank: true }).optional(),
  /** Needed to change the email when the last password sign-in is not recent (REAUTH_WINDOW). */
  currentPassword: text({ max: 1024 }).optional(),
  email: z
    .string({ error: 'Enter a valid email address.' })
    .max(254, { error: 'Ensure this field has no more than 254 characters.' })
    .refine((v) => v === '' || z.email().safeParse(v.trim()).success, { error: 'Enter a valid email address.' })
    .optional(),
});

/** Same rules for the new password as at registration. */
export const passwordChangeBody = z.object({
  currentPassword: text({ max: 1024 }),
  newPassword: password(),
});

/** POST /auth/api-keys. */
export const createApiKeyBody = z.object({
  name: text({ max: 100 }),
  scopes: z
    .array(z.enum(API_KEY_SCOPES, { error: (issue) => msg.choice(issue.input) }), { error: 'Expected a list of scopes.' })
    .min(1, { error: 'Give the key at least one scope.' })
    .max(API_KEY_SCOPES.length * 2),
  /** Limits the key to these workspaces (the caller's own); every workspace of the caller when absent. */
  workspaceIds: z.array(text({ max: 50 }), { error: 'Expected a list of workspace ids.' }).min(1, { error: 'Leave it out for every workspace.' }).max(100).optional(),
  expiresAt: z.iso.datetime({ offset: true, error: 'Expected an ISO 8601 date-time.' }).optional(),
});
