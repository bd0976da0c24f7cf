/**
 * Authenticating a request's bearer credential, the route pipeline's first step (the server
 * hands this authenticator to it as AppDeps.authenticator; http/authenticate.ts reads the
 * header). Two kinds of credential, each checked by one statement that also carries the
 * route's subject and preload:
 * - a session's access token (JWT): signature, expiry and claims are checked without I/O,
 *   then the statement loads the caller and checks the revocations (the token, its session,
 *   the user's cut-off);
 * - a personal API key (`chm_…`, see api-keys.ts): its SHA-256 finds the key and its user,
 *   and says whether it is revoked or expired. Nothing about a key is kept in memory, so a
 *   revocation or the account's deletion holds on every instance from the next request.
 * Refusals are the contract's 401s with RFC 6750 detail.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Config } from '../../config/env.js';
import { authenticationRow, type CallerRow, keyAuthenticationRow, keyRiderCaller, type RiderCaller, type Riders } from '../../data/sessions.js';
import { touchApiKey } from '../../data/api-keys.js';
import type { Database } from '../../db/client.js';
import { AppError, unauthorized } from '../../lib/errors.js';
import { API_KEY_SCOPES, type ApiKeyScope } from '../../policies/index.js';
import { hashApiKey, looksLikeApiKey } from './api-keys.js';
import { type AuthUser, checkToken, INVALID_TOKEN, type TokenClaims } from './tokens.js';
import { type BackgroundWork, tracker } from '../../lib/background.js';

const UUID = /^[0-9a-f-]{36}$/i;
const invalid = (description: string) => unauthorized(INVALID_TOKEN, { error: 'invalid_token', description });
const invalidKey = (description: string) => unauthorized('Invalid API key', { error: 'invalid_token', description });

/** A presented API key, as far as it can be checked without I/O: its hash. */
export interface KeyCredential {
  kind: 'api-key';
  hash: string;
  /** Keys expire by their row, which the statement reads. */
  exp: number;
}

/** What a bearer credential proves before the statement runs. */
export type Credential = TokenClaims | KeyCredential;

/** What the pipeline gets of the caller: the user, and the values of what rode along. */
export interface AuthenticatedCaller {
  user: AuthUser;
  subject: unknown;
  preloaded: unknown;
}

export interface AuthenticatorOptions {
  /**
   * Counts a request of an API key against its rate limit: the seconds to wait when the key
   * is over it, else null.
   */
  countKeyRequest?: (keyId: string) => Promise<number | null>;
  /** Work started off the request's path (recording a key's last use), awaited on shutdown. */
  background?: BackgroundWork;
}

const isScope = (value: string): value is ApiKeyScope => (API_KEY_SCOPES as readonly string[]).includes(value);

const callerOf = (row: CallerRow, token: AuthUser['token'], key: AuthUser['key']): AuthUser => ({
  id: row.id, email: row.email, name: row.name, avatar: row.avatar, isActive: row.isActive,
  autoStore: row.autoStore, retentionPeriod: row.retentionPeriod, createdAt: row.createdAt, token, key,
});

/** The pipeline's authenticator (the shape of http/authenticate.ts's Authenticator). */
export function bearerAuthenticator(config: Config, db: Pick<Database, 'query'>, options: AuthenticatorOptions = {}) {
  /** Records the key's use at most once a minute, off the request's path; a failure only leaves the time older. */
  const track = options.background ? tracker(options.background) : () => {};
  const recordUse = (keyId: string) => track(touchApiKey(db, keyId).catch(() => {}));

  async function loadKey(credential: KeyCredential, riders: ((caller: RiderCaller) => Riders | null) | undefined): Promise<AuthenticatedCaller> {
    const row = await keyAuthenticationRow(db, credential.hash, riders?.(keyRiderCaller) ?? undefined);
    // The lookup is by hash; comparing the stored hash again, in constant time, keeps the check independent of how the index compares.
    if (!row || !timingSafeEqual(Buffer.from(row.keyHash), Buffer.from(credential.hash))) throw invalidKey('The API key is invalid');
    if (row.revoked) throw invalidKey('The API key was revoked');
    if (row.expired) throw invalidKey('The API key expired');
    if (!row.isActive) throw unauthorized('User is inactive', { error: 'invalid_token', description: 'The user of this key is inactive' });
    const wait = await options.countKeyRequest?.(row.keyId);
    if (wait != null) throw new AppError(429, 'Too many requests with this API key. Please try again later.', null, { 'Retry-After': String(wait) });
    if (!row.usedRecently) recordUse(row.keyId);
    const workspaceIds = row.workspaceIds ?? [];
    const key = { id: row.keyId, scopes: (row.scopes ?? []).filter(isScope), workspaceIds: workspaceIds.length ? workspaceIds : null };
    return { user: callerOf(row, null, key), subject: row.subject, preloaded: row.preloaded };
  }

  return {
    verify(token: string): Credential {
      if (looksLikeApiKey(token)) return { kind: 'api-key', hash: hashApiKey(token), exp: Number.POSITIVE_INFINITY };
      const claims = checkToken(config, token, 'access');
      if (claims === 'expired') throw invalid('The access token expired');
      if (claims === 'invalid' || !UUID.test(claims.user_id)) throw invalid('The access token is invalid');
      return claims;
    },
    /** API keys skip the cache of verified tokens: hashing one costs less than remembering it, and no key stays in memory. */
    uncached: looksLikeApiKey,
    async load(credential: Credential, riders: ((caller: RiderCaller) => Riders | null) | undefined): Promise<AuthenticatedCaller> {
      if ('kind' in credential) return loadKey(credential, riders);
      const claims = credential;
      const token = { jti: claims.jti, exp: claims.exp, family: claims.fam ?? null, authTime: claims.auth_time ?? null };
      const caller: RiderCaller = { userId: claims.user_id, limit: null };
      const row = await authenticationRow(db, { userId: claims.user_id, jti: claims.jti, family: token.family, issuedAt: claims.iat }, riders?.(caller) ?? undefined);
      if (!row) throw unauthorized('User not found', { error: 'invalid_token', description: 'The user of this token no longer exists' });
      if (row.revoked) throw invalid('The access token was revoked');
      if (!row.isActive) throw unauthorized('User is inactive', { error: 'invalid_token', description: 'The user of this token is inactive' });
      return { user: callerOf(row, token, null), subject: row.subject, preloaded: row.preloaded };
    },
  };
}
