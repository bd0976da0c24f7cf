import type { AppDeps } from '../app-deps.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { passwordGuessLimits } from '../http/middleware/rate-limit.js';
import { writeJson } from '../lib/json-stream.js';
import { account } from '../policies/index.js';
import { presentExport } from '../presenters/export.js';
import { presentCleanup, presentCleanupInfo, presentSettings } from '../presenters/settings.js';
import { PROFILE_UPDATE_DESCRIPTION, profileUpdateBody, retentionBody } from '../schemas/settings.js';
import { SIGN_IN_AGAIN, updateProfile } from '../services/auth/session.js';
import { deleteAccount, updateRetention } from '../services/settings/account.js';
import { exportContent, exportFilename } from '../services/settings/export.js';
import { cleanupForUser, nextCleanup } from '../services/settings/retention.js';

/** Settings, retention, export and account deletion: every route acts on the caller only. */
export function settingsRoutes(deps: AppDeps): RouteSpec[] {
  const guesses = passwordGuessLimits(deps.rateLimitStore, deps.config.authRateLimit);
  return [
    defineRoute({
      method: 'get', path: '/settings', operationId: 'S1', tag: 'settings', access: 'user', policy: account.can('read'),
      summary: 'The caller\'s profile and memory-retention settings',
      handler: ({ user }) => presentSettings(user),
    }),
    defineRoute({
      method: 'put', path: '/settings/profile', operationId: 'S2', tag: 'settings', access: 'user', policy: account.can('update'),
      summary: 'Update name and/or email (each applied when non-empty); a new email needs a recent sign-in or currentPassword',
      description: PROFILE_UPDATE_DESCRIPTION,
      body: profileUpdateBody, before: guesses,
      responses: { 400: 'Email already exists', 403: `${SIGN_IN_AGAIN} · Current password is incorrect`, 429: 'Too many attempts' },
      handler: async ({ deps, user, body }) => presentSettings(await updateProfile(deps.prisma, deps.config, user, body)),
    }),
    defineRoute({
      method: 'put', path: '/settings/memory-retention', operationId: 'S3', tag: 'settings', access: 'user', policy: account.can('update'),
      summary: 'Set autoStore and the retention period (7-days, 30-days, 90-days, indefinite-84, indefinite-forever)',
      body: retentionBody,
      responses: { 400: 'Invalid retention period. Must be one of: …' },
      handler: async ({ deps, user, body }) => presentSettings(await updateRetention(deps.prisma, user.id, body)),
    }),
    defineRoute({
      method: 'get', path: '/settings/cleanup-info', operationId: 'S4', tag: 'settings', access: 'user', policy: account.can('read'),
      summary: 'When the retention cleanup next runs for the caller (snake_case keys)',
      handler: ({ user }) => presentCleanupInfo(user.retentionPeriod, nextCleanup(user)),
    }),
    defineRoute({
      method: 'post', path: '/settings/cleanup', operationId: 'S5', tag: 'settings', access: 'user', policy: account.can('update'),
      summary: 'Delete conversations and memories older than the retention period in workspaces the caller owns',
      handler: async ({ deps, user }) => {
        const now = new Date();
        return presentCleanup(await cleanupForUser(deps.prisma, user, now), now);
      },
    }),
    defineRoute({
      method: 'get', path: '/export', operationId: 'S6', tag: 'settings', access: 'user', policy: account.can('read'), raw: true,
      summary: 'Download every workspace, conversation, memory and integration of the caller as a JSON file (not enveloped)',
      handler: async ({ deps, user, res }) => {
        const content = await exportContent(deps.prisma, user.id);
        res.status(200);
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.setHeader('Content-Disposition', `attachment; filename="${exportFilename()}"`);
        res.setHeader('Cache-Control', 'no-store');
        try {
          await writeJson(res, presentExport(content));
          res.end();
        } catch (error) {
          // The status line is gone; cutting the connection tells the client the file is incomplete.
          deps.logger.error({ err: error }, 'export failed');
          res.destroy();
        }
      },
    }),
    defineRoute({
      method: 'delete', path: '/account', operationId: 'S7', tag: 'settings', access: 'user', policy: account.can('delete'),
      summary: 'Delete the caller\'s account, owned workspaces, memberships, integrations and tokens (one transaction)',
      handler: async ({ deps, user }) => {
        await deleteAccount(deps.prisma, user.id);
        return { message: 'Account successfully deleted' };
      },
    }),
  ];
}
