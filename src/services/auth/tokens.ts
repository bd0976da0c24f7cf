/**
 * JWTs as simplejwt issues them (HS256; claims token_type, exp, iat, jti, user_id), plus
 * what the original lacked: refresh rotation with reuse detection and access revocation. Both
 * kinds carry their session (`fam`, the refresh-token family) and the time of the password
 * sign-in (`auth_time`), so revoking a session reaches its access tokens and sensitive changes
 * can ask for a recent sign-in.
 */
import { createSecretKey, type KeyObject, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Config } from '../../config/env.js';
import type { CallerRow } from '../../data/sessions.js';
import type { KeyGrant } from '../../policies/index.js';

export type TokenType = 'access' | 'refresh';

export interface TokenClaims {
  token_type: TokenType;
  user_id: string;
  jti: string;
  iat: number;
  exp: number;
  /** The session (refresh-token family) the token belongs to; absent on tokens issued before sessions were tracked. */
  fam?: string;
  /** When the user last proved their password (seconds, as OIDC's auth_time); unchanged across refreshes. */
  auth_time?: number;
}

/** The session's access token that authenticated a request. */
export interface SessionToken {
  jti: string;
  exp: number;
  family: string | null;
  authTime: number | null;
}

/**
 * The authenticated caller: the user row the authentication statement read, and what
 * authenticated the request: a session's access token, or an API key (then `token` is null).
 */
export interface AuthUser extends CallerRow {
  token: SessionToken | null;
  key: KeyGrant | null;
}

// A KeyObject, not the string: given a string, jsonwebtoken first tries (and fails) to parse
// it as a public key on every verification, which costs more than the HMAC itself.
const keys = new WeakMap<Config, KeyObject>();
const keyOf = (config: Config) => {
  let key = keys.get(config);
  if (!key) keys.set(config, (key = createSecretKey(Buffer.from(config.jwtSecret, 'utf8'))));
  return key;
};

export const INVALID_TOKEN = 'Given token not valid for any token type';

export interface SessionClaims {
  /** Refresh-token family; a new session when absent. */
  family: string;
  /** Seconds; absent on sessions that predate it (they never count as a recent sign-in). */
  authTime?: number;
  /**
   * The user's session cut-off (ms), when set: a token is stamped no earlier than the first whole
   * second after it, because a token issued before the cut-off is refused by `iat`, which has
   * whole seconds only.
   */
  notBefore?: Date | null;
}

export function signToken(config: Config, type: TokenType, userId: string, session?: SessionClaims): { token: string; claims: TokenClaims } {
  const now = Math.max(Math.floor(Date.now() / 1000), session?.notBefore ? Math.ceil(session.notBefore.getTime() / 1000) : 0);
  const ttl = Math.floor((type === 'access' ? config.accessTokenTtlMs : config.refreshTokenTtlMs) / 1000);
  const claims: TokenClaims = { token_type: type, user_id: userId, jti: randomUUID().replace(/-/g, ''), iat: now, exp: now + ttl };
  if (session) claims.fam = session.family;
  if (session?.authTime !== undefined) claims.auth_time = session.authTime;
  return { token: jwt.sign(claims, keyOf(config), { algorithm: 'HS256' }), claims };
}

/** Why a token was refused: `expired` (refreshing may help) or `invalid` (sign in again). */
export type TokenRejection = 'expired' | 'invalid';

const wellFormed = (claims: TokenClaims, type: TokenType) =>
  claims.token_type === type && typeof claims.user_id === 'string' && typeof claims.jti === 'string' && typeof claims.iat === 'number' &&
  (claims.fam === undefined || typeof claims.fam === 'string') && (claims.auth_time === undefined || typeof claims.auth_time === 'number');

/** Verifies signature, expiry (a token without `exp` never expires, so it is refused), type and claim types. */
export function checkToken(config: Config, token: string, type: TokenType): TokenClaims | TokenRejection {
  let claims: TokenClaims;
  try {
    claims = jwt.verify(token, keyOf(config), { algorithms: ['HS256'] }) as TokenClaims;
  } catch (error) {
    // jsonwebtoken checks the signature before the expiry: an expired token is a genuine one.
    if ((error as Error).name !== 'TokenExpiredError') return 'invalid';
    return (jwt.decode(token) as TokenClaims | null)?.token_type === type ? 'expired' : 'invalid';
  }
  return typeof claims.exp === 'number' && wellFormed(claims, type) ? claims : 'invalid';
}

/** `checkToken` for callers that only need to know whether the token is good. */
export function verifyToken(config: Config, token: string, type: TokenType): TokenClaims | null {
  const result = checkToken(config, token, type);
  return typeof result === 'string' ? null : result;
}
