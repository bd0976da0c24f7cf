/**
 * Bearer authentication (the only scheme accepted). One query loads the user and checks
 * the token's jti against the revocation list, so an authenticated request costs one round trip.
 */
import type { Request, RequestHandler, Response } from 'express';
import type { AppDeps } from '../../app-deps.js';
import { loadAuthUser } from '../../services/auth/session.js';
import { INVALID_TOKEN, verifyToken } from '../../services/auth/tokens.js';
import { unauthorized } from '../errors.js';

export function authenticate(deps: AppDeps): RequestHandler {
  return async (req, res, next) => {
    await authenticateRequest(deps, req, res);
    next();
  };
}

/** Sets res.locals.user from the Bearer token, or throws the 401 of the contract. */
export async function authenticateRequest(deps: AppDeps, req: Request, res: Response): Promise<void> {
  if (res.locals.user) return;
  const header = req.headers.authorization;
  if (!header) throw unauthorized('Authentication credentials were not provided.');
  const parts = header.trim().split(/\s+/);
  if (parts[0]?.toLowerCase() !== 'bearer') throw unauthorized('Authentication credentials were not provided.');
  if (parts.length !== 2) throw unauthorized('Authorization header must contain two space-delimited values');
  const claims = verifyToken(deps.config, parts[1]!, 'access');
  if (!claims) throw unauthorized(INVALID_TOKEN);
  res.locals.user = await loadAuthUser(deps, claims);
}
