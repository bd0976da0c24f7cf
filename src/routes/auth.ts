import type { AppDeps } from '../app-deps.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { authRateLimits, passwordGuessLimits } from '../http/middleware/rate-limit.js';
import { account, apiKey } from '../policies/index.js';
import { presentApiKey, presentCreatedApiKey } from '../presenters/api-key.js';
import { presentUser } from '../presenters/user.js';
import { createApiKeyBody, loginBody, logoutBody, passwordChangeBody, PROFILE_UPDATE_DESCRIPTION, profileUpdateBody, refreshBody, registerBody } from '../schemas/auth.js';
import * as apiKeys from '../services/auth/api-keys.js';
import * as session from '../services/auth/session.js';
import { ApiKeyList, AuthSession, CreatedApiKey, PasswordChanged, Tokens, User } from '../schemas/responses/auth.js';
import { MessageResult } from '../schemas/responses/common.js';

export function authRoutes(deps: AppDeps): RouteSpec[] {
  const limits = (name: string) => authRateLimits(deps.rateLimitStore, name, deps.config.authRateLimit);
  const guesses = passwordGuessLimits(deps.rateLimitStore, deps.config.authRateLimit);
  return [
    defineRoute({
      method: 'post', path: '/auth/register', operationId: 'register', contractId: 'A1', tag: 'auth', access: 'public', status: 201, response: AuthSession,
      summary: 'Create an account (and its default workspace); returns tokens and the user',
      body: registerBody, bodyErrors: 'fields', before: limits('register'),
      responses: { 400: 'Field errors, e.g. {"email":["Email already exists"]}', 429: 'Too many attempts' },
      handler: async ({ deps, body }) => {
        const { token, refresh, user } = await session.register(deps.prisma, deps.config, body);
        return { token, refresh, user: presentUser(user) };
      },
    }),
    defineRoute({
      method: 'post', path: '/auth/login', operationId: 'login', contractId: 'A2', tag: 'auth', access: 'public', response: AuthSession,
      summary: 'Log in with email and password',
      description: 'Only failed attempts count against the limits. Past AUTH_RATE_LIMIT_PER_EMAIL failures for one account from one client address, that address gets 429; failures for one account from all addresses slow its logins down (up to AUTH_RATE_LIMIT_MAX_DELAY) but never refuse them.',
      body: loginBody, bodyErrors: 'fields', before: guesses,
      responses: { 400: 'Field errors', 401: 'Invalid credentials', 429: 'Too many attempts' },
      handler: async ({ deps, body }) => {
        const { token, refresh, user } = await session.login(deps.prisma, deps.config, body);
        return { token, refresh, user: presentUser(user) };
      },
    }),
    defineRoute({
      method: 'post', path: '/auth/logout', operationId: 'logout', contractId: 'A3', tag: 'auth', access: 'user', policy: account.can('update'), response: MessageResult,
      summary: 'End the session of the presented access token (its refresh tokens and every access token issued with them) and, when sent, the session of the refresh token',
      body: logoutBody,
      responses: { 400: 'Token is invalid or expired' },
      handler: async ({ deps, user, body }) => {
        await session.logout(deps.prisma, deps.config, user, body.refresh);
        return { message: 'Successfully logged out' };
      },
    }),
    defineRoute({
      method: 'post', path: '/auth/refresh', operationId: 'refreshToken', contractId: 'A4', tag: 'auth', access: 'public', response: Tokens,
      summary: 'Exchange a refresh token for a new access token and a new refresh token (rotation); reusing one ends its session',
      body: refreshBody,
      responses: { 400: 'Refresh token required', 401: 'Invalid or expired refresh token' },
      handler: ({ deps, body }) => session.refresh(deps.prisma, deps.config, deps.logger, body.refresh),
    }),
    defineRoute({
      method: 'get', path: '/auth/profile', operationId: 'getProfile', contractId: 'A5', tag: 'auth', access: 'user', policy: account.can('read'), response: User,
      summary: 'The authenticated user',
      handler: ({ user }) => presentUser(user),
    }),
    defineRoute({
      method: 'put', path: '/auth/profile/update', operationId: 'updateProfile', contractId: 'A6', tag: 'auth', access: 'user', policy: account.can('update'), response: User,
      summary: 'Update name and/or email (each applied when non-empty); a new email needs a recent sign-in or currentPassword',
      description: PROFILE_UPDATE_DESCRIPTION,
      body: profileUpdateBody, before: guesses,
      responses: { 400: 'Email already exists', 403: `${session.SIGN_IN_AGAIN} · Current password is incorrect`, 429: 'Too many attempts' },
      handler: async ({ deps, user, body }) => presentUser(await session.updateProfile(deps.prisma, deps.config, user, body)),
    }),
    defineRoute({
      method: 'post', path: '/auth/logout-all', operationId: 'logoutAll', tag: 'auth', access: 'user', policy: account.can('update'), response: MessageResult,
      summary: 'End every session of the caller, this one included: every access and refresh token issued so far stops working',
      handler: async ({ deps, user }) => {
        await session.logoutAll(deps.prisma, user);
        return { message: 'Logged out of every session' };
      },
    }),
    defineRoute({
      method: 'post', path: '/auth/password', operationId: 'changePassword', tag: 'auth', access: 'user', policy: account.can('update'), response: PasswordChanged,
      summary: 'Change the password: checks currentPassword, ends every session and returns fresh tokens for the caller',
      description: 'newPassword follows the rules of registration. Every token issued before, the presented one included, stops working; the answer carries the token and refresh of a new session, as login does.',
      body: passwordChangeBody, bodyErrors: 'fields', before: guesses,
      responses: { 400: 'Field errors, e.g. {"currentPassword":["Current password is incorrect"]}', 429: 'Too many attempts' },
      handler: async ({ deps, user, body }) => ({ message: 'Password changed', ...(await session.changePassword(deps.prisma, deps.config, user, body)) }),
    }),
    defineRoute({
      method: 'post', path: '/auth/api-keys', operationId: 'createApiKey', tag: 'auth', access: 'user', policy: account.can('manage-api-keys'), status: 201, response: CreatedApiKey,
      summary: 'Create a personal API key (chm_…) for scripts and MCP clients; the answer is the only time the key is shown',
      description:
        'Send the key as `Authorization: Bearer chm_…` on the REST routes its scopes allow and on /mcp. Scopes: memories:read, memories:write, conversations:read, chat, workspaces:read. ' +
        'In a workspace the key acts with its creator\'s role there, capped by its scopes; workspaceIds limits it to some of the creator\'s workspaces. ' +
        'Anything outside its scopes or workspaces, and every route of account, session, key, settings, integration and team management, answers 403. API keys cannot create keys.',
      body: createApiKeyBody, bodyErrors: 'fields',
      responses: { 400: 'Field errors, e.g. {"workspaceIds":["Not a workspace of yours: workspace-…"]}', 403: 'API keys cannot be used for this; sign in to the app instead' },
      handler: async ({ deps, user, body }) =>
        presentCreatedApiKey(await apiKeys.createApiKey(deps.db, user.id, { ...body, expiresAt: body.expiresAt === undefined ? undefined : new Date(body.expiresAt) })),
    }),
    defineRoute({
      method: 'get', path: '/auth/api-keys', operationId: 'listApiKeys', tag: 'auth', access: 'user', policy: account.can('manage-api-keys'), response: ApiKeyList,
      summary: 'The caller\'s API keys not revoked, newest first: name, prefix, scopes, workspaces, creation, last use and expiry (never the key)',
      responses: { 403: 'API keys cannot be used for this; sign in to the app instead' },
      handler: async ({ deps, user }) => ({ keys: (await apiKeys.listApiKeys(deps.db, user.id)).map(presentApiKey) }),
    }),
    defineRoute({
      method: 'delete', path: '/auth/api-keys/:apiKeyId', operationId: 'revokeApiKey', tag: 'auth', access: 'user', policy: apiKey.can('revoke'), response: MessageResult,
      summary: 'Revoke one of the caller\'s API keys: it is refused from the next request on, on every instance',
      responses: { 403: 'API keys cannot be used for this; sign in to the app instead', 404: 'API key not found' },
      handler: async ({ deps, subject }) => {
        await apiKeys.revoke(deps.db, subject.id);
        return { message: 'API key revoked' };
      },
    }),
  ];
}
