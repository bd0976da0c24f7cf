/**
 * JWTs as simplejwt issues them (HS256; claims token_type, exp, iat, jti, user_id), plus
 * what the original lacked: refresh rotation with reuse detection and access revocation.
 */
import { createSecretKey, type KeyObject, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Config } from '../../config/env.js';

export type TokenType = 'access' | 'refresh';

export interface TokenClaims {
  token_type: TokenType;
  user_id: string;
  jti: string;
  iat: number;
  exp: number;
  /** Refresh-token family, carried by refresh tokens only. */
  fam?: string;
}

export interface AuthUser {
  id: string;
  email: string;
  name: string;
  avatar: string | null;
  isActive: boolean;
  autoStore: boolean;
  retentionPeriod: string;
  createdAt: Date;
  /** The access token that authenticated this request. */
  token: { jti: string; exp: number };
}

// A KeyObject, not the string: given a string, jsonwebtoken first tries (and fails) to parse
// it as a public key on every verification, which costs more than the HMAC itself.
// Next to it, the tokens this key has already verified: a client presents the same access
// token on every request, and its signature cannot stop being valid, so a repeat costs a map
// lookup plus the expiry check instead of a second HMAC and JSON parse. Bounded; oldest out.
interface Verifier {
  key: KeyObject;
  verified: Map<string, TokenClaims>;
}
const verifiers = new WeakMap<Config, Verifier>();
const verifierOf = (config: Config) => {
  let v = verifiers.get(config);
  if (!v) verifiers.set(config, (v = { key: createSecretKey(Buffer.from(config.jwtSecret, 'utf8')), verified: new Map() }));
  return v;
};
const keyOf = (config: Config) => verifierOf(config).key;
const VERIFIED_CACHE_SIZE = 10_000;

export const INVALID_TOKEN = 'Given token not valid for any token type';

export function signToken(config: Config, type: TokenType, userId: string, family?: string): { token: string; claims: TokenClaims } {
  const now = Math.floor(Date.now() / 1000);
  const ttl = Math.floor((type === 'access' ? config.accessTokenTtlMs : config.refreshTokenTtlMs) / 1000);
  const claims: TokenClaims = { token_type: type, user_id: userId, jti: randomUUID().replace(/-/g, ''), iat: now, exp: now + ttl };
  if (family) claims.fam = family;
  return { token: jwt.sign(claims, keyOf(config), { algorithm: 'HS256' }), claims };
}

/** Verifies signature, expiry and type; returns null for anything else. */
export function verifyToken(config: Config, token: string, type: TokenType): TokenClaims | null {
  const { key, verified } = verifierOf(config);
  let claims = verified.get(token);
  if (claims) {
    // jsonwebtoken's own expiry rule (no clock tolerance)
    if (Math.floor(Date.now() / 1000) >= claims.exp) {
      verified.delete(token);
      return null;
    }
  } else {
    try {
      claims = jwt.verify(token, key, { algorithms: ['HS256'] }) as TokenClaims;
    } catch {
      return null;
    }
    if (typeof claims.exp === 'number') {
      if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value!);
      verified.set(token, claims);
    }
  }
  if (claims.token_type !== type || typeof claims.user_id !== 'string' || typeof claims.jti !== 'string') return null;
  return claims;
}
