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
import type { Logger } from 'pino';
import type { Config } from '../../config/env.js';
import * as data from '../../data/sessions.js';
import * as users from '../../data/users.js';
import type { Db } from '../../data/sql.js';
import { Prisma, type PrismaClient, type User } from '../../generated/prisma/client.js';
import { AppError, badRequest, forbidden, unauthorized } from '../../lib/errors.js';
import { createWorkspaceTx } from '../workspaces.js';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords.js';
import { type AuthUser, type SessionClaims, type SessionToken, signToken, type TokenClaims, verifyToken } from './tokens.js';

export const normaliseEmail = (email: string) => email.trim().toLowerCase();

export const isUniqueViolation = (error: unknown) =>
  error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A session opened by proving the password now. */
const freshSession = (notBefore: Date | null = null): SessionClaims => ({ family: randomUUID(), authTime: nowSeconds(), notBefore });

async function issueTokens(db: Db, config: Config, userId: string, session: SessionClaims) {
  const access = signToken(config, 'access', userId, session);
  const refresh = signToken(config, 'refresh', userId, session);
  await data.saveRefreshToken(db, { id: refresh.claims.jti, userId, familyId: session.family, expiresAt: new Date(refresh.claims.exp * 1000) });
  return { token: access.token, refresh: refresh.token };
}

/**
 * Ends one session: its refresh tokens, and (through the deny-list) its access tokens. The
 * deny-list row lives as long as the newest access token of the family can (plus the second a
 * token may be stamped ahead by the cut-off rule, and some margin).
 */
async function endSession(prisma: PrismaClient, config: Config, familyId: string, now = new Date()) {
  await data.revokeSession(prisma, familyId, now, new Date(now.getTime() + config.accessTokenTtlMs + 60_000));
}

/** Whether a token was issued before the user's cut-off (tokens carry whole seconds). */
const issuedBeforeCutoff = (claims: Pick<TokenClaims, 'iat'>, cutoff: Date | null) => cutoff !== null && claims.iat * 1000 < cutoff.getTime();

export async function register(prisma: PrismaClient, config: Config, input: { name: string; email: string; password: string }) {
  const email = normaliseEmail(input.email);
  const emailTaken = () => new AppError(400, { email: ['Email already exists'] });
  if (await users.emailTaken(prisma, email)) throw emailTaken();
  const passwordHash = await hashPassword(input.password, config.bcryptCost);
  let user: User;
  try {
    user = await prisma.$transaction(async (tx) => {
      const created = await users.createUser(tx, { email, name: input.name, passwordHash });
      // D8: every account starts with a workspace of its own.
      await createWorkspaceTx(tx, created, { name: `${created.name}'s Workspace`, retrievalTopK: config.llm.retrievalTopK });
      return created;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw emailTaken();
    throw error;
  }
  return { ...(await issueTokens(prisma, config, user.id, freshSession())), user };
}

export async function login(db: Db, config: Config, input: { email: string; password: string }) {
  const user = await users.findUserByEmail(db, normaliseEmail(input.email));
  const ok = user
    ? await verifyPassword(input.password, user.passwordHash)
    : await verifyPassword(input.password, await dummyPasswordHash(config.bcryptCost)).then(() => false);
  if (!user || !ok || !user.isActive) throw unauthorized('Invalid credentials');
  return { ...(await issueTokens(db, config, user.id, freshSession(user.sessionsValidAfter))), user };
}

const INVALID_REFRESH = 'Invalid or expired refresh token';

/**
 * Rotates a refresh token within its session, keeping the session's sign-in time. Presenting a
 * used or revoked one ends the whole session, its access tokens included.
 */
export async function refresh(prisma: PrismaClient, config: Config, logger: Logger, token: string) {
  const claims = verifyToken(config, token, 'refresh');
  if (!claims) throw unauthorized(INVALID_REFRESH);
  const now = new Date();
  if (!(await data.claimRefreshToken(prisma, claims.jti, now))) {
    const row = await data.findRefreshToken(prisma, claims.jti);
    if (row) {
      await endSession(prisma, config, row.familyId, now);
      if (row.usedAt) logger.warn({ userId: row.userId, family: row.familyId }, 'refresh token reuse detected; family revoked');
    }
    throw unauthorized(INVALID_REFRESH);
  }
  const user = await data.refreshStanding(prisma, claims.user_id);
  if (!user?.isActive || issuedBeforeCutoff(claims, user.sessionsValidAfter)) throw unauthorized(INVALID_REFRESH);
  return issueTokens(prisma, config, user.id, { family: claims.fam ?? randomUUID(), authTime: claims.auth_time, notBefore: user.sessionsValidAfter });
}

/** The session's token of the caller; the policies refuse API keys on session routes, so none gets here. */
function sessionTokenOf(user: AuthUser): SessionToken {
  if (!user.token) throw forbidden('API keys cannot be used for this; sign in to the app instead');
  return user.token;
}

/** Ends the session of the presented access token and, when sent, the session of a refresh token of the caller's. */
export async function logout(prisma: PrismaClient, config: Config, user: AuthUser, refreshToken: string | undefined) {
  const token = sessionTokenOf(user);
  const now = new Date();
  if (refreshToken !== undefined) {
    const claims = verifyToken(config, refreshToken, 'refresh');
    if (!claims || claims.user_id !== user.id) throw badRequest('Token is invalid or expired');
    const family = (await data.findRefreshToken(prisma, claims.jti))?.familyId ?? claims.fam;
    if (family && family !== token.family) await endSession(prisma, config, family, now);
  }
  if (token.family) await endSession(prisma, config, token.family, now);
  // A token from before sessions were tracked: only this token can be named.
  else await data.revokeAccessToken(prisma, token.jti, new Date(token.exp * 1000));
}

/** Ends every session of the caller, this one included. */
export async function logoutAll(prisma: PrismaClient, user: AuthUser) {
  await prisma.$transaction((tx) => data.revokeAllSessions(tx, user.id, new Date()));
}

const WRONG_PASSWORD = 'Current password is incorrect';

async function passwordMatches(db: Db, userId: string, password: string) {
  const hash = await users.passwordHashOf(db, userId);
  return hash !== null && (await verifyPassword(password, hash));
}

/**
 * Sets a new password after checking the current one, ends every session (the caller's too)
 * and opens a new one for the caller: its fresh tokens are returned.
 */
export async function changePassword(prisma: PrismaClient, config: Config, user: AuthUser, input: { currentPassword: string; newPassword: string }) {
  if (!(await passwordMatches(prisma, user.id, input.currentPassword))) throw new AppError(400, { currentPassword: [WRONG_PASSWORD] });
  const passwordHash = await hashPassword(input.newPassword, config.bcryptCost);
  return prisma.$transaction(async (tx) => {
    await users.setPasswordHash(tx, user.id, passwordHash);
    const cutoff = await data.revokeAllSessions(tx, user.id, new Date());
    return issueTokens(tx, config, user.id, freshSession(cutoff));
  });
}

export const SIGN_IN_AGAIN = 'Sign in again to change your email address';

/**
 * Changing the email hands the account to whoever controls the new address, so it takes a
 * recent password sign-in (the session's auth_time, within REAUTH_WINDOW) or the current
 * password; a current password that is sent must be right.
 */
async function requireRecentSignIn(db: Db, config: Config, user: AuthUser, currentPassword: string | undefined) {
  if (currentPassword !== undefined) {
    if (!(await passwordMatches(db, user.id, currentPassword))) throw forbidden(WRONG_PASSWORD);
    return;
  }
  const { authTime } = sessionTokenOf(user);
  if (authTime === null || Date.now() - authTime * 1000 > config.reauthWindowMs) throw forbidden(SIGN_IN_AGAIN);
}

/**
 * A6 / S2: applies name and email when truthy; email must stay unique. A new email needs a
 * recent sign-in or the current password; the unchanged email (any case) is no change.
 */
export async function updateProfile(db: Db, config: Config, user: AuthUser, input: { name?: string; email?: string; currentPassword?: string }) {
  const changes: { name?: string; email?: string } = {};
  if (input.name) changes.name = input.name;
  if (input.email) {
    const email = normaliseEmail(input.email);
    if (email !== user.email) {
      await requireRecentSignIn(db, config, user, input.currentPassword);
      if (await users.emailTaken(db, email)) throw badRequest('Email already exists');
      changes.email = email;
    }
  }
  if (Object.keys(changes).length === 0) return users.findUser(db, user.id);
  try {
    return await users.updateUser(db, user.id, changes);
  } catch (error) {
    if (isUniqueViolation(error)) throw badRequest('Email already exists');
    throw error;
  }
}

/** Deletes expired revocation rows and refresh tokens; run periodically. */
export const pruneExpiredTokens = (db: Db) => data.deleteExpiredTokens(db, new Date());
