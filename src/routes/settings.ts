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
import { MessageResult } from '../schemas/responses/common.js';
import { CleanupCounts, CleanupInfo, ExportDocument, Settings } from '../schemas/responses/settings.js';

/** Settings, retention, export and account deletion: every route acts on the caller only. */
export function settingsRoutes(deps: AppDeps): RouteSpec[] {
  const guesses = passwordGuessLimits(deps.rateLimitStore, deps.config.authRateLimit);
  return [
    defineRoute({
      method: 'get', path: '/settings', operationId: 'getSettings', contractId: 'S1', response: Settings, tag: 'settings', access: 'user', policy: account.can('read'),
      summary: 'The caller\'s profile and memory-retention settings',
      handler: ({ user }) => presentSettings(user),
    }),
    defineRoute({
      method: 'put', path: '/settings/profile', operationId: 'updateSettingsProfile', contractId: 'S2', response: Settings, tag: 'settings', access: 'user', policy: account.can('update'),
      summary: 'Update name and/or email (each applied when non-empty); a new email needs a recent sign-in or currentPassword',
      description: PROFILE_UPDATE_DESCRIPTION,
      body: profileUpdateBody, before: guesses,
      responses: { 400: 'Email already exists', 403: `${SIGN_IN_AGAIN} · Current password is incorrect`, 429: 'Too many attempts' },
      handler: async ({ deps, user, body }) => presentSettings(await updateProfile(deps.prisma, deps.config, user, body)),
    }),
    defineRoute({
      method: 'put', path: '/settings/memory-retention', operationId: 'updateMemoryRetention', contractId: 'S3', response: Settings, tag: 'settings', access: 'user', policy: account.can('update'),
      summary: 'Set autoStore and the retention period (7-days, 30-days, 90-days, indefinite-84, indefinite-forever)',
      body: retentionBody,
      responses: { 400: 'Invalid retention period. Must be one of: …' },
      handler: async ({ deps, user, body }) => presentSettings(await updateRetention(deps.prisma, user.id, body)),
    }),
    defineRoute({
      method: 'get', path: '/settings/cleanup-info', operationId: 'getCleanupInfo', contractId: 'S4', response: CleanupInfo, tag: 'settings', access: 'user', policy: account.can('read'),
      summary: 'When the retention cleanup next runs for the caller (snake_case keys)',
      handler: ({ user }) => presentCleanupInfo(user.retentionPeriod, nextCleanup(user)),
    }),
    defineRoute({
      method: 'post', path: '/settings/cleanup', operationId: 'runCleanup', contractId: 'S5', response: CleanupCounts, tag: 'settings', access: 'user', policy: account.can('update'),
      summary: 'Delete conversations and memories older than the retention period in workspaces the caller owns',
      handler: async ({ deps, user }) => {
        const now = new Date();
        return presentCleanup(await cleanupForUser(deps.prisma, user, now), now);
      },
    }),
    defineRoute({
      method: 'get', path: '/export', operationId: 'exportData', contractId: 'S6', tag: 'settings', access: 'user', policy: account.can('read'), raw: true,
      response: {
        description: 'The export document as a file download (not enveloped); a failure after the first byte cuts the connection',
        content: { 'application/json': ExportDocument },
        headers: { 'Content-Disposition': 'attachment; filename="chimera_data_export_YYYYMMDD_HHMMSS.json"' },
      },
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
      method: 'delete', path: '/account', operationId: 'deleteAccount', contractId: 'S7', response: MessageResult, tag: 'settings', access: 'user', policy: account.can('delete'),
      summary: 'Delete the caller\'s account, owned workspaces, memberships, integrations and tokens (one transaction)',
      handler: async ({ deps, user }) => {
        await deleteAccount(deps.prisma, user.id);
        return { message: 'Account successfully deleted' };
      },
    }),
  ];
}
