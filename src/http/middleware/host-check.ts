/**
 * DNS-rebinding protection for endpoints that tools on the user's own machine call (/mcp).
 * A hostile page can make its own host name resolve to 127.0.0.1 and then reach a local
 * server from the browser; its requests carry that foreign name in Host and the page's
 * Origin. So Host must name this server (HOST, localhost, 127.0.0.1, [::1], PUBLIC_HOSTS; any
 * port), and an Origin, when sent, must be a configured CORS origin or this server's own.
 * Requests without Origin (curl, SDK clients, other servers) pass on their Host alone.
 */
import type { RequestHandler } from 'express';
import type { Config } from '../../config/env.js';
import { AppError } from '../../lib/errors.js';

/** The host name of a Host header, lower-cased, without the port; null when it is not one. */
export function hostNameOf(host: string | undefined): string | null {
  // A Host header is a name and an optional port, nothing else (no user info, path or query).
  if (!host || /[\s/?#@\\]/.test(host)) return null;
  try {
    return new URL(`http://${host}`).hostname || null;
  } catch {
    return null;
  }
}

export function requireOwnHostAndOrigin(config: Pick<Config, 'publicHosts' | 'corsOrigins'>): RequestHandler {
  const hosts = new Set(config.publicHosts);
  const origins = config.corsOrigins === '*' ? null : new Set(config.corsOrigins);
  return (req, _res, next) => {
    const host = req.headers.host;
    const name = hostNameOf(host);
    if (name === null || !hosts.has(name)) throw new AppError(403, 'Host not allowed');
    const origin = req.headers.origin;
    if (origin !== undefined && origins !== null && !origins.has(origin) && !sameOrigin(origin, host!)) {
      throw new AppError(403, 'Origin not allowed');
    }
    next();
  };
}

/** Whether a browser Origin is this very server as the request addressed it (a page it served itself). */
function sameOrigin(origin: string, host: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === host.toLowerCase();
  } catch {
    return false; // "null" (sandboxed frames, files) and anything unparsable
  }
}
