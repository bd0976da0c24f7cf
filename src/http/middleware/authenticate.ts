/**
 * Bearer authentication (the only scheme accepted). One query loads the user and checks
 * the token against the revocations (the token, its session, the user's cut-off), so an
 * authenticated request costs one round trip; a route's subject and preload ride along in the
 * same statement. Refusals carry RFC 6750 detail in WWW-Authenticate.
 */
import type { Request, Response } from 'express';
import type { AppDeps } from '../../app-deps.js';
import { type AuthRiders, loadAuthUser } from '../../services/auth/session.js';
import { type AuthUser, checkToken, INVALID_TOKEN } from '../../services/auth/tokens.js';
import { unauthorized } from '../errors.js';

/** Builds what rides along for the verified caller, or null when nothing does. */
export type RidersFor = (userId: string) => AuthRiders | null;

export interface Authenticated {
  user: AuthUser;
  /** The riders' values (undefined when absent). */
  subject: unknown;
  preloaded: unknown;
}

const NOTHING_LOADED = { subject: undefined, preloaded: undefined };

/** Sets res.locals.user from the Bearer token, or throws the 401 of the contract. */
export async function authenticateRequest(deps: AppDeps, req: Request, res: Response, riders?: RidersFor): Promise<Authenticated> {
  if (res.locals.user) return { user: res.locals.user as AuthUser, ...NOTHING_LOADED };
  const header = req.headers.authorization;
  if (!header) throw unauthorized('Authentication credentials were not provided.');
  const parts = header.trim().split(/\s+/);
  if (parts[0]?.toLowerCase() !== 'bearer') throw unauthorized('Authentication credentials were not provided.');
  if (parts.length !== 2) {
    const message = 'Authorization header must contain two space-delimited values';
    throw unauthorized(message, { error: 'invalid_request', description: message });
  }
  const claims = checkToken(deps.config, parts[1]!, 'access');
  if (claims === 'expired') throw unauthorized(INVALID_TOKEN, { error: 'invalid_token', description: 'The access token expired' });
  if (claims === 'invalid') throw unauthorized(INVALID_TOKEN, { error: 'invalid_token', description: 'The access token is invalid' });
  const loaded = await loadAuthUser(deps, claims, riders?.(claims.user_id) ?? undefined);
  res.locals.user = loaded.user;
  return loaded;
}
