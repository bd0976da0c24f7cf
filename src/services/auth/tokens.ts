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
const keys = new WeakMap<Config, KeyObject>();
const keyOf = (config: Config) => {
  let key = keys.get(config);
  if (!key) keys.set(config, (key = createSecretKey(Buffer.from(config.jwtSecret, 'utf8'))));
  return key;
};

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
  try {
    const claims = jwt.verify(token, keyOf(config), { algorithms: ['HS256'] }) as TokenClaims;
    if (claims.token_type !== type || typeof claims.user_id !== 'string' || typeof claims.jti !== 'string') return null;
    return claims;
  } catch {
    return null;
  }
}
