/**
 * Authenticating a request's access token, the route pipeline's first step (the server hands
 * this authenticator to it as AppDeps.authenticator; http/authenticate.ts reads the header).
 * The token's signature, expiry and claims are checked without I/O; then one statement loads
 * the caller, checks the revocations (the token, its session, the user's cut-off) and carries
 * the route's subject and preload. Refusals are the contract's 401s with RFC 6750 detail.
 */
import type { Config } from '../../config/env.js';
import { authenticationRow, type Riders } from '../../data/sessions.js';
import type { Database } from '../../db/client.js';
import { unauthorized } from '../../lib/errors.js';
import { type AuthUser, checkToken, INVALID_TOKEN, type TokenClaims } from './tokens.js';

const UUID = /^[0-9a-f-]{36}$/i;
const invalid = (description: string) => unauthorized(INVALID_TOKEN, { error: 'invalid_token', description });

/** What the pipeline gets of the caller: the user, and the values of what rode along. */
export interface AuthenticatedCaller {
  user: AuthUser;
  subject: unknown;
  preloaded: unknown;
}

/** The pipeline's authenticator (the shape of http/authenticate.ts's Authenticator). */
export function bearerAuthenticator(config: Config, db: Pick<Database, 'query'>) {
  return {
    verify(token: string): TokenClaims {
      const claims = checkToken(config, token, 'access');
      if (claims === 'expired') throw invalid('The access token expired');
      if (claims === 'invalid' || !UUID.test(claims.user_id)) throw invalid('The access token is invalid');
      return claims;
    },
    async load(claims: TokenClaims, riders: ((userId: string) => Riders | null) | undefined): Promise<AuthenticatedCaller> {
      const token = { jti: claims.jti, exp: claims.exp, family: claims.fam ?? null, authTime: claims.auth_time ?? null };
      const row = await authenticationRow(db, { userId: claims.user_id, jti: claims.jti, family: token.family, issuedAt: claims.iat }, riders?.(claims.user_id) ?? undefined);
      if (!row) throw unauthorized('User not found', { error: 'invalid_token', description: 'The user of this token no longer exists' });
      if (row.revoked) throw invalid('The access token was revoked');
      if (!row.isActive) throw unauthorized('User is inactive', { error: 'invalid_token', description: 'The user of this token is inactive' });
      const user: AuthUser = {
        id: row.id, email: row.email, name: row.name, avatar: row.avatar, isActive: row.isActive,
        autoStore: row.autoStore, retentionPeriod: row.retentionPeriod, createdAt: row.createdAt, token,
      };
      return { user, subject: row.subject, preloaded: row.preloaded };
    },
  };
}
