/**
 * Accounts and sessions: register, login, refresh (rotating, with reuse detection),
 * logout (revokes the refresh family and the presented access token), profile.
 */
import { randomUUID } from 'node:crypto';
import type { AppDeps } from '../../app-deps.js';
import { Prisma } from '../../generated/prisma/client.js';
import { AppError, badRequest, unauthorized } from '../../http/errors.js';
import { createWorkspaceTx } from '../workspaces.js';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords.js';
import { type AuthUser, INVALID_TOKEN, signToken, type TokenClaims, verifyToken } from './tokens.js';

export const normaliseEmail = (email: string) => email.trim().toLowerCase();

export const isUniqueViolation = (error: unknown) =>
  error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';

type UserRow = Omit<AuthUser, 'token'> & { passwordHash?: string };

async function issueTokens(deps: AppDeps, userId: string, family: string = randomUUID()) {
  const access = signToken(deps.config, 'access', userId);
  const refresh = signToken(deps.config, 'refresh', userId, family);
  await deps.prisma.refreshToken.create({
    data: { id: refresh.claims.jti, userId, familyId: family, expiresAt: new Date(refresh.claims.exp * 1000) },
  });
  return { token: access.token, refresh: refresh.token };
}

export async function register(deps: AppDeps, input: { name: string; email: string; password: string }) {
  const email = normaliseEmail(input.email);
  const emailTaken = () => new AppError(400, { email: ['Email already exists'] });
  if (await deps.prisma.user.findUnique({ where: { email }, select: { id: true } })) throw emailTaken();
  const passwordHash = await hashPassword(input.password, deps.config.bcryptCost);
  let user: UserRow;
  try {
    user = await deps.prisma.$transaction(async (tx) => {
      const created = await tx.user.create({ data: { email, name: input.name, passwordHash } });
      // D8: every account starts with a workspace of its own.
      await createWorkspaceTx(tx, created, { name: `${created.name}'s Workspace` });
      return created;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw emailTaken();
    throw error;
  }
  return { ...(await issueTokens(deps, user.id)), user };
}

export async function login(deps: AppDeps, input: { email: string; password: string }) {
  const user = await deps.prisma.user.findUnique({ where: { email: normaliseEmail(input.email) } });
  const ok = user
    ? await verifyPassword(input.password, user.passwordHash)
    : await verifyPassword(input.password, await dummyPasswordHash(deps.config.bcryptCost)).then(() => false);
  if (!user || !ok || !user.isActive) throw unauthorized('Invalid credentials');
  return { ...(await issueTokens(deps, user.id)), user };
}

const INVALID_REFRESH = 'Invalid or expired refresh token';

/** Rotates a refresh token. Presenting a used or revoked one revokes its whole family. */
export async function refresh(deps: AppDeps, token: string) {
  const claims = verifyToken(deps.config, token, 'refresh');
  if (!claims) throw unauthorized(INVALID_REFRESH);
  const now = new Date();
  const claimed = await deps.prisma.refreshToken.updateMany({
    where: { id: claims.jti, usedAt: null, revokedAt: null, expiresAt: { gt: now } },
    data: { usedAt: now },
  });
  if (claimed.count !== 1) {
    const row = await deps.prisma.refreshToken.findUnique({ where: { id: claims.jti } });
    if (row) {
      await deps.prisma.refreshToken.updateMany({ where: { familyId: row.familyId, revokedAt: null }, data: { revokedAt: now } });
      if (row.usedAt) deps.logger.warn({ userId: row.userId, family: row.familyId }, 'refresh token reuse detected; family revoked');
    }
    throw unauthorized(INVALID_REFRESH);
  }
  const user = await deps.prisma.user.findUnique({ where: { id: claims.user_id }, select: { id: true, isActive: true } });
  if (!user?.isActive) throw unauthorized(INVALID_REFRESH);
  return issueTokens(deps, user.id, claims.fam ?? randomUUID());
}

export async function logout(deps: AppDeps, user: AuthUser, refreshToken: string | undefined) {
  const now = new Date();
  if (refreshToken !== undefined) {
    const claims = verifyToken(deps.config, refreshToken, 'refresh');
    if (!claims || claims.user_id !== user.id) throw badRequest('Token is invalid or expired');
    const row = await deps.prisma.refreshToken.findUnique({ where: { id: claims.jti } });
    if (row) await deps.prisma.refreshToken.updateMany({ where: { familyId: row.familyId, revokedAt: null }, data: { revokedAt: now } });
  }
  await deps.prisma.revokedAccessToken.upsert({
    where: { jti: user.token.jti },
    create: { jti: user.token.jti, expiresAt: new Date(user.token.exp * 1000) },
    update: {},
  });
}

interface AuthRow {
  id: string;
  email: string;
  name: string;
  avatar: string | null;
  is_active: boolean;
  auto_store: boolean;
  retention_period: string;
  created_at: Date;
  revoked: boolean;
}

/**
 * A read that rides along with the authentication lookup (RouteSpec.preload), in the same
 * statement: on the hottest routes (the polled workspace list, chat) it saves a database
 * round trip. `sql` yields one value, built from the verified caller's id, the path params
 * and the validated query; `check` is a cheap run-time check that the value has the declared
 * type `T` (the handler gets it typed); `name` names the combined prepared statement (its
 * text must not vary).
 */
export interface Preload<T, K extends string = string, Q = unknown> {
  name: string;
  sql: (input: { userId: string; params: Readonly<Record<K, string>>; query: Q }) => Prisma.Sql;
  check: (value: unknown) => value is T;
}

/** What rides along with one authentication lookup: the route's subject and its preload (either may be absent). */
export interface AuthRiders {
  /** Names the combined prepared statement. */
  name: string;
  subject: Prisma.Sql | null;
  preload: Prisma.Sql | null;
}

/**
 * The caller of an access token, or 401 with the contract's texts. One query, which also
 * carries the route's subject and preload when it has them (their values are `subject` and
 * `preloaded`, undefined without).
 */
export async function loadAuthUser(deps: AppDeps, claims: TokenClaims, riders?: AuthRiders): Promise<{ user: AuthUser; subject: unknown; preloaded: unknown }> {
  if (!/^[0-9a-f-]{36}$/i.test(claims.user_id)) throw unauthorized(INVALID_TOKEN);
  const statement = Prisma.sql`
    SELECT u.id::text, u.email, u.name, u.avatar, u.is_active, u.auto_store, u.retention_period, u.created_at,
           EXISTS (SELECT 1 FROM revoked_access_tokens r WHERE r.jti = ${claims.jti}) AS revoked
           ${riders?.subject ? Prisma.sql`, (${riders.subject}) AS subject` : Prisma.empty}
           ${riders?.preload ? Prisma.sql`, (${riders.preload}) AS preloaded` : Prisma.empty}
      FROM users u WHERE u.id = ${claims.user_id}::uuid`;
  const rows = await deps.db.query<AuthRow & { subject?: unknown; preloaded?: unknown }>(statement.text, statement.values, riders ? `auth-user+${riders.name}` : 'auth-user');
  const row = rows[0];
  if (!row) throw unauthorized('User not found');
  if (row.revoked) throw unauthorized(INVALID_TOKEN);
  if (!row.is_active) throw unauthorized('User is inactive');
  const user: AuthUser = {
    id: row.id,
    email: row.email,
    name: row.name,
    avatar: row.avatar,
    isActive: row.is_active,
    autoStore: row.auto_store,
    retentionPeriod: row.retention_period,
    createdAt: new Date(row.created_at),
    token: { jti: claims.jti, exp: claims.exp },
  };
  return { user, subject: row.subject, preloaded: row.preloaded };
}

/** A6 / S2: applies name and email when truthy; email must stay unique. */
export async function updateProfile(deps: AppDeps, user: AuthUser, input: { name?: string; email?: string }) {
  const data: { name?: string; email?: string } = {};
  if (input.name) data.name = input.name;
  if (input.email) {
    const email = normaliseEmail(input.email);
    if (email !== user.email) {
      const taken = await deps.prisma.user.findUnique({ where: { email }, select: { id: true } });
      if (taken) throw badRequest('Email already exists');
      data.email = email;
    }
  }
  if (Object.keys(data).length === 0) return deps.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
  try {
    return await deps.prisma.user.update({ where: { id: user.id }, data });
  } catch (error) {
    if (isUniqueViolation(error)) throw badRequest('Email already exists');
    throw error;
  }
}

/** Deletes expired revocation rows and refresh tokens; run periodically. */
export async function pruneExpiredTokens(deps: AppDeps) {
  const now = new Date();
  await deps.prisma.revokedAccessToken.deleteMany({ where: { expiresAt: { lt: now } } });
  await deps.prisma.refreshToken.deleteMany({ where: { expiresAt: { lt: now } } });
}
