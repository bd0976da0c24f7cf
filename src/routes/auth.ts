import type { AppDeps } from '../app-deps.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { authRateLimits } from '../http/middleware/rate-limit.js';
import { account } from '../policies/index.js';
import { presentUser } from '../presenters/user.js';
import { loginBody, logoutBody, profileUpdateBody, refreshBody, registerBody } from '../schemas/auth.js';
import * as session from '../services/auth/session.js';

export function authRoutes(deps: AppDeps): RouteSpec[] {
  const limits = (name: string) => authRateLimits(deps.rateLimitStore, name, deps.config.authRateLimit);
  return [
    defineRoute({
      method: 'post', path: '/auth/register', operationId: 'A1', tag: 'auth', access: 'public', status: 201,
      summary: 'Create an account (and its default workspace); returns tokens and the user',
      body: registerBody, bodyErrors: 'fields', before: limits('register'),
      responses: { 400: 'Field errors, e.g. {"email":["Email already exists"]}', 429: 'Too many attempts' },
      handler: async ({ deps, body }) => {
        const { token, refresh, user } = await session.register(deps, body);
        return { token, refresh, user: presentUser(user) };
      },
    }),
    defineRoute({
      method: 'post', path: '/auth/login', operationId: 'A2', tag: 'auth', access: 'public',
      summary: 'Log in with email and password',
      body: loginBody, bodyErrors: 'fields', before: limits('login'),
      responses: { 400: 'Field errors', 401: 'Invalid credentials', 429: 'Too many attempts' },
      handler: async ({ deps, body }) => {
        const { token, refresh, user } = await session.login(deps, body);
        return { token, refresh, user: presentUser(user) };
      },
    }),
    defineRoute({
      method: 'post', path: '/auth/logout', operationId: 'A3', tag: 'auth', access: 'user', policy: account.can('update'),
      summary: 'Revoke the presented access token and, when sent, the refresh token (its whole family)',
      body: logoutBody,
      responses: { 400: 'Token is invalid or expired' },
      handler: async ({ deps, user, body }) => {
        await session.logout(deps, user, body.refresh);
        return { message: 'Successfully logged out' };
      },
    }),
    defineRoute({
      method: 'post', path: '/auth/refresh', operationId: 'A4', tag: 'auth', access: 'public',
      summary: 'Exchange a refresh token for a new access token and a new refresh token (rotation)',
      body: refreshBody,
      responses: { 400: 'Refresh token required', 401: 'Invalid or expired refresh token' },
      handler: ({ deps, body }) => session.refresh(deps, body.refresh),
    }),
    defineRoute({
      method: 'get', path: '/auth/profile', operationId: 'A5', tag: 'auth', access: 'user', policy: account.can('read'),
      summary: 'The authenticated user',
      handler: ({ user }) => presentUser(user),
    }),
    defineRoute({
      method: 'put', path: '/auth/profile/update', operationId: 'A6', tag: 'auth', access: 'user', policy: account.can('update'),
      summary: 'Update name and/or email (each applied when non-empty)',
      body: profileUpdateBody,
      responses: { 400: 'Email already exists' },
      handler: async ({ deps, user, body }) => presentUser(await session.updateProfile(deps, user, body)),
    }),
  ];
}
