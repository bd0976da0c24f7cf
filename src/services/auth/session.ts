/**
 * Accounts and sessions: register, login, refresh (rotating, with reuse detection), logout
 * (ends the session of the presented token), logout everywhere, password change, profile.
 *
 * A session is a refresh-token family; every token of it carries the family (`fam`). Ending
 * a session puts its family on a deny-list that the authentication statement reads, so its
 * access tokens die with its refresh tokens. Ending every session of a user moves the user's
 * cut-off (`sessions_valid_after`): tokens issued before it are refused.
 */
import { randomUUID } from 'node:crypto';
import type { AppDeps } from '../../app-deps.js';
import { Prisma } from '../../generated/prisma/client.js';
import { AppError, badRequest, forbidden, unauthorized } from '../../http/errors.js';
import { createWorkspaceTx } from '../workspaces.js';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords.js';
import { type AuthUser, INVALID_TOKEN, type SessionClaims, signToken, type TokenClaims, verifyToken } from './tokens.js';

export const normaliseEmail = (email: string) => email.trim().toLowerCase();

export const isUniqueViolation = (error: unknown) =>
  error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';

type UserRow = Omit<AuthUser, 'token'> & { passwordHash?: string };
type Db = Prisma.TransactionClient;

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A session opened by proving the password now. */
const freshSession = (notBefore: Date | null = null): SessionClaims => ({ family: randomUUID(), authTime: nowSeconds(), notBefore });

async function issueTokens(deps: AppDeps, userId: string, session: SessionClaims, db: Db = deps.prisma) {
  const access = signToken(deps.config, 'access', userId, session);
  const refresh = signToken(deps.config, 'refresh', userId, session);
  await db.refreshToken.create({
    data: { id: refresh.claims.jti, userId, familyId: session.family, expiresAt: new Date(refresh.claims.exp * 1000) },
  });
  return { token: access.token, refresh: refresh.token };
}

/**
 * Ends one session: its refresh tokens, and (through the deny-list) its access tokens. The
 * deny-list row lives as long as the newest access token of the family can (plus the second a
 * token may be stamped ahead by the cut-off rule, and some margin).
 */
async function endSession(deps: AppDeps, familyId: string, now = new Date()) {
  const until = new Date(now.getTime() + deps.config.accessTokenTtlMs + 60_000);
  await deps.prisma.$transaction([
    deps.prisma.refreshToken.updateMany({ where: { familyId, revokedAt: null }, data: { revokedAt: now } }),
    deps.prisma.revokedTokenFamily.createMany({ data: [{ familyId, expiresAt: until }], skipDuplicates: true }),
  ]);
}

/**
 * Ends every session of the user: the cut-off moves to now (never backwards, whatever the order
 * concurrent calls land in) and every refresh token is revoked. Returns the cut-off in force.
 */
async function endAllSessions(db: Db, userId: string, now = new Date()): Promise<Date> {
  // Raw: Prisma cannot express GREATEST in an update.
  const rows = await db.$queryRaw<{ cutoff: Date }[]>`
    UPDATE users SET sessions_valid_after = GREATEST(sessions_valid_after, ${now}::timestamptz)
     WHERE id = ${userId}::uuid RETURNING sessions_valid_after AS cutoff`;
  await db.refreshToken.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: now } });
  return new Date(rows[0]?.cutoff ?? now);
}

/** Whether a token was issued before the user's cut-off (tokens carry whole seconds). */
const issuedBeforeCutoff = (claims: Pick<TokenClaims, 'iat'>, cutoff: Date | string | null) =>
  cutoff !== null && claims.iat * 1000 < new Date(cutoff).getTime();

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
  return { ...(await issueTokens(deps, user.id, freshSession())), user };
}

export async function login(deps: AppDeps, input: { email: string; password: string }) {
  const user = await deps.prisma.user.findUnique({ where: { email: normaliseEmail(input.email) } });
  const ok = user
    ? await verifyPassword(input.password, user.passwordHash)
    : await verifyPassword(input.password, await dummyPasswordHash(deps.config.bcryptCost)).then(() => false);
  if (!user || !ok || !user.isActive) throw unauthorized('Invalid credentials');
  return { ...(await issueTokens(deps, user.id, freshSession(user.sessionsValidAfter))), user };
}

const INVALID_REFRESH = 'Invalid or expired refresh token';

/**
 * Rotates a refresh token within its session, keeping the session's sign-in time. Presenting a
 * used or revoked one ends the whole session, its access tokens included.
 */
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
      await endSession(deps, row.familyId, now);
      if (row.usedAt) deps.logger.warn({ userId: row.userId, family: row.familyId }, 'refresh token reuse detected; family revoked');
    }
    throw unauthorized(INVALID_REFRESH);
  }
  const user = await deps.prisma.user.findUnique({ where: { id: claims.user_id }, select: { id: true, isActive: true, sessionsValidAfter: true } });
  if (!user?.isActive || issuedBeforeCutoff(claims, user.sessionsValidAfter)) throw unauthorized(INVALID_REFRESH);
  return issueTokens(deps, user.id, { family: claims.fam ?? randomUUID(), authTime: claims.auth_time, notBefore: user.sessionsValidAfter });
}

/** Ends the session of the presented access token and, when sent, the session of a refresh token of the caller's. */
export async function logout(deps: AppDeps, user: AuthUser, refreshToken: string | undefined) {
  const now = new Date();
  if (refreshToken !== undefined) {
    const claims = verifyToken(deps.config, refreshToken, 'refresh');
    if (!claims || claims.user_id !== user.id) throw badRequest('Token is invalid or expired');
    const row = await deps.prisma.refreshToken.findUnique({ where: { id: claims.jti }, select: { familyId: true } });
    const family = row?.familyId ?? claims.fam;
    if (family && family !== user.token.family) await endSession(deps, family, now);
  }
  if (user.token.family) {
    await endSession(deps, user.token.family, now);
  } else {
    // A token from before sessions were tracked: only this token can be named.
    await deps.prisma.revokedAccessToken.upsert({
      where: { jti: user.token.jti },
      create: { jti: user.token.jti, expiresAt: new Date(user.token.exp * 1000) },
      update: {},
    });
  }
}

/** Ends every session of the caller, this one included. */
export async function logoutAll(deps: AppDeps, user: AuthUser) {
  await deps.prisma.$transaction((tx) => endAllSessions(tx, user.id));
}

const WRONG_PASSWORD = 'Current password is incorrect';

async function passwordMatches(deps: AppDeps, userId: string, password: string) {
  const row = await deps.prisma.user.findUnique({ where: { id: userId }, select: { passwordHash: true } });
  return row !== null && (await verifyPassword(password, row.passwordHash));
}

/**
 * Sets a new password after checking the current one, ends every session (the caller's too)
 * and opens a new one for the caller: its fresh tokens are returned.
 */
export async function changePassword(deps: AppDeps, user: AuthUser, input: { currentPassword: string; newPassword: string }) {
  if (!(await passwordMatches(deps, user.id, input.currentPassword))) throw new AppError(400, { currentPassword: [WRONG_PASSWORD] });
  const passwordHash = await hashPassword(input.newPassword, deps.config.bcryptCost);
  return deps.prisma.$transaction(async (tx) => {
    await tx.user.update({ where: { id: user.id }, data: { passwordHash } });
    const cutoff = await endAllSessions(tx, user.id);
    return issueTokens(deps, user.id, freshSession(cutoff), tx);
  });
}

export const SIGN_IN_AGAIN = 'Sign in again to change your email address';

/**
 * Changing the email hands the account to whoever controls the new address, so it takes a
 * recent password sign-in (the session's auth_time, within REAUTH_WINDOW) or the current
 * password; a current password that is sent must be right.
 */
async function requireRecentSignIn(deps: AppDeps, user: AuthUser, currentPassword: string | undefined) {
  if (currentPassword !== undefined) {
    if (!(await passwordMatches(deps, user.id, currentPassword))) throw forbidden(WRONG_PASSWORD);
    return;
  }
  const { authTime } = user.token;
  if (authTime === null || Date.now() - authTime * 1000 > deps.config.reauthWindowMs) throw forbidden(SIGN_IN_AGAIN);
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
  sessions_valid_after: Date | string | null;
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

const REVOKED = { error: 'invalid_token', description: 'The access token was revoked' } as const;

/**
 * The caller of an access token, or 401 with the contract's texts. One query, which also
 * carries the route's subject and preload when it has them (their values are `subject` and
 * `preloaded`, undefined without). The revocation checks are primary-key probes of the two
 * deny-lists (the token, its session) next to the user row that holds the cut-off.
 */
export async function loadAuthUser(deps: AppDeps, claims: TokenClaims, riders?: AuthRiders): Promise<{ user: AuthUser; subject: unknown; preloaded: unknown }> {
  if (!/^[0-9a-f-]{36}$/i.test(claims.user_id)) throw unauthorized(INVALID_TOKEN, { error: 'invalid_token', description: 'The access token is invalid' });
  const statement = Prisma.sql`
    SELECT u.id::text, u.email, u.name, u.avatar, u.is_active, u.auto_store, u.retention_period, u.created_at, u.sessions_valid_after,
           EXISTS (SELECT 1 FROM revoked_access_tokens r WHERE r.jti = ${claims.jti})
             OR EXISTS (SELECT 1 FROM revoked_token_families f WHERE f.family_id = ${claims.fam ?? null}) AS revoked
           ${riders?.subject ? Prisma.sql`, (${riders.subject}) AS subject` : Prisma.empty}
           ${riders?.preload ? Prisma.sql`, (${riders.preload}) AS preloaded` : Prisma.empty}
      FROM users u WHERE u.id = ${claims.user_id}::uuid`;
  const rows = await deps.db.query<AuthRow & { subject?: unknown; preloaded?: unknown }>(statement.text, statement.values, riders ? `auth-user+${riders.name}` : 'auth-user');
  const row = rows[0];
  if (!row) throw unauthorized('User not found', { error: 'invalid_token', description: 'The user of this token no longer exists' });
  if (row.revoked || issuedBeforeCutoff(claims, row.sessions_valid_after)) throw unauthorized(INVALID_TOKEN, REVOKED);
  if (!row.is_active) throw unauthorized('User is inactive', { error: 'invalid_token', description: 'The user of this token is inactive' });
  const user: AuthUser = {
    id: row.id,
    email: row.email,
    name: row.name,
    avatar: row.avatar,
    isActive: row.is_active,
    autoStore: row.auto_store,
    retentionPeriod: row.retention_period,
    createdAt: new Date(row.created_at),
    token: { jti: claims.jti, exp: claims.exp, family: claims.fam ?? null, authTime: claims.auth_time ?? null },
  };
  return { user, subject: row.subject, preloaded: row.preloaded };
}

/**
 * A6 / S2: applies name and email when truthy; email must stay unique. A new email needs a
 * recent sign-in or the current password; the unchanged email (any case) is no change.
 */
export async function updateProfile(deps: AppDeps, user: AuthUser, input: { name?: string; email?: string; currentPassword?: string }) {
  const data: { name?: string; email?: string } = {};
  if (input.name) data.name = input.name;
  if (input.email) {
    const email = normaliseEmail(input.email);
    if (email !== user.email) {
      await requireRecentSignIn(deps, user, input.currentPassword);
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
  await deps.prisma.revokedTokenFamily.deleteMany({ where: { expiresAt: { lt: now } } });
  await deps.prisma.refreshToken.deleteMany({ where: { expiresAt: { lt: now } } });
}
