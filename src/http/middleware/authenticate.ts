/**
 * Bearer authentication (the only scheme accepted). One query loads the user and checks
 * the token against the revocations (the token, its session, the user's cut-off), so an
 * authenticated request costs one round trip; a route's preload (RouteSpec.preload) rides
 * along in the same statement. Refusals carry RFC 6750 detail in WWW-Authenticate.
 */
import type { Request, Response } from 'express';
import type { AppDeps } from '../../app-deps.js';
import { loadAuthUser, type Preload } from '../../services/auth/session.js';
import { checkToken, INVALID_TOKEN } from '../../services/auth/tokens.js';
import { unauthorized } from '../errors.js';

/** Builds a route's preload for the verified caller, or null when this request has none. */
export type PreloadFor = (req: Request, userId: string) => Preload | null;

/** Sets res.locals.user (and res.locals.preloaded) from the Bearer token, or throws the 401 of the contract. */
export async function authenticateRequest(deps: AppDeps, req: Request, res: Response, preload?: PreloadFor): Promise<void> {
  if (res.locals.user) return;
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
  const { user, preloaded } = await loadAuthUser(deps, claims, preload?.(req, claims.user_id) ?? undefined);
  res.locals.user = user;
  res.locals.preloaded = preloaded;
}
