/**
 * Step 1 of the route pipeline: Bearer authentication (RFC 6750, the only scheme accepted).
 * The framework reads the Authorization header; the application verifies the token and loads
 * its caller through the `Authenticator` it hands the pipeline (AppDeps.authenticator, built in
 * services/auth/authenticate.ts), so http/ runs no query and knows no token format. The caller
 * is loaded in one statement that also carries the route's subject and preload (the riders).
 */
import type { Request, Response } from 'express';
import type { RiderCaller, Riders } from '../data/sessions.js';
import { unauthorized } from '../lib/errors.js';
import { VerifiedTokens } from '../fast/verified-tokens.js';

/** Builds what rides along for the verified caller, or null when nothing does. */
export type RidersFor = (caller: RiderCaller) => Riders | null;

export interface Authenticated<U> {
  user: U;
  /** The riders' values (undefined when absent). */
  subject: unknown;
  preloaded: unknown;
}

/** The application's side of authentication. `C` are a token's verified claims (`exp` in seconds, as JWT's). */
export interface Authenticator<C extends { exp: number }, U> {
  /** The claims of a genuine, unexpired access token (no I/O); throws the 401 that refuses any other. */
  verify(token: string): C;
  /** Credentials verified afresh on every request instead of through the cache of verified tokens. */
  uncached?(token: string): boolean;
  /** The caller the claims name, loaded with the riders in one statement; throws the 401 of a revoked token or a missing or inactive user. */
  load(claims: C, riders: RidersFor | undefined): Promise<Authenticated<U>>;
}

const NOT_PROVIDED = 'Authentication credentials were not provided.';

/** One cache of verified tokens per authenticator (per app), shared by all its routes. */
const caches = new WeakMap<object, unknown>();
function verifiedTokensOf<C extends { exp: number }>(authenticator: Authenticator<C, unknown>): VerifiedTokens<C> {
  let tokens = caches.get(authenticator) as VerifiedTokens<C> | undefined;
  if (!tokens) caches.set(authenticator, (tokens = new VerifiedTokens<C>((token) => authenticator.verify(token))));
  return tokens;
}

/** Authenticates the request (once: the caller is kept in res.locals.user), or throws the 401 of the contract. */
export async function authenticateRequest<C extends { exp: number }, U>(
  authenticator: Authenticator<C, U>,
  req: Request,
  res: Response,
  riders?: RidersFor,
): Promise<Authenticated<U>> {
  if (res.locals.user) return { user: res.locals.user as U, subject: undefined, preloaded: undefined };
  const header = req.headers.authorization;
  if (!header) throw unauthorized(NOT_PROVIDED);
  const parts = header.trim().split(/\s+/);
  if (parts[0]?.toLowerCase() !== 'bearer') throw unauthorized(NOT_PROVIDED);
  if (parts.length !== 2) {
    const message = 'Authorization header must contain two space-delimited values';
    throw unauthorized(message, { error: 'invalid_request', description: message });
  }
  const token = parts[1]!;
  const claims = authenticator.uncached?.(token) ? authenticator.verify(token) : verifiedTokensOf(authenticator).check(token);
  const loaded = await authenticator.load(claims, riders);
  res.locals.user = loaded.user;
  return loaded;
}
