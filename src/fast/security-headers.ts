/**
 * Speed layer: the security and CORS headers (§1.12) in one middleware.
 *
 * Replaces: helmet() and cors() in a row. Helmet's headers do not depend on the request, so
 * helmet runs once at start against a recording response and every request gets the recorded
 * list; CORS is decided per request as the `cors` package decides it (the package itself still
 * answers preflights).
 *
 * Gain: the profile route's server CPU is 102 µs per request with it and 111 µs with helmet()
 * and cors() (other runs: 100 against 103, 98 against 102, 100 against 106 µs: small, but on
 * the same side in every run). Measured with the foundation bench's load (GET
 * /api/auth/profile, PostgreSQL, 32 connections), both builds in the same run, 5 interleaved
 * rounds, 2026-12-05. To measure it again, mount helmet(options) and cors(…) in app.ts instead
 * and run `npm run bench foundation` on both builds.
 *
 * Pinned by: tests/unit/http-fast.test.ts "security and CORS headers" (the same status and
 * headers as helmet() + cors() for simple, credentialed, foreign-origin and preflight
 * requests, with a list of origins and with any origin).
 *
 * Remove when: helmet() + cors() cost about as much (the bench shows no difference), or
 * helmet's headers come to depend on the request (the equivalence test then fails).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from 'cors';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

export interface CorsSettings {
  /** '*' reflects any origin (credentials allowed, so never a literal '*'). */
  origins: '*' | string[];
  methods: string[];
  allowedHeaders: string[];
  exposedHeaders: string[];
  maxAgeSeconds: number;
}

type HelmetOptions = Parameters<typeof helmet>[0];

/** The [name, value] pairs helmet sets on any response; throws if it does not finish synchronously. */
function recordHelmetHeaders(options: HelmetOptions): [string, string][] {
  const headers: [string, string][] = [];
  const fake = {
    setHeader: (name: string, value: string) => void headers.push([name, String(value)]),
    removeHeader: () => {},
  };
  let done = false;
  helmet(options)({ headers: {} } as IncomingMessage, fake as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
    done = true;
  });
  if (!done) throw new Error('helmet did not finish synchronously');
  return headers;
}

export function securityAndCorsHeaders(helmetOptions: HelmetOptions, settings: CorsSettings): RequestHandler {
  const fixed = recordHelmetHeaders(helmetOptions);
  const preflight = cors({
    origin: settings.origins === '*' ? true : settings.origins,
    credentials: true,
    methods: settings.methods,
    allowedHeaders: settings.allowedHeaders,
    exposedHeaders: settings.exposedHeaders,
    maxAge: settings.maxAgeSeconds,
  });
  const allowed = settings.origins === '*' ? null : new Set(settings.origins);
  const exposed = settings.exposedHeaders.join(',');
  return (req, res, next) => {
    for (let i = 0; i < fixed.length; i++) res.setHeader(fixed[i]![0], fixed[i]![1]);
    if (req.method === 'OPTIONS') return preflight(req, res, next);
    const origin = req.headers.origin;
    if (origin && (allowed === null || allowed.has(origin))) res.setHeader('Access-Control-Allow-Origin', origin);
    const vary = res.getHeader('Vary');
    res.setHeader('Vary', vary === undefined ? 'Origin' : appendVary(String(vary)));
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    if (exposed) res.setHeader('Access-Control-Expose-Headers', exposed);
    next();
  };
}

/** `vary`'s rule for an existing header: keep it, add Origin unless present (or '*'). */
function appendVary(current: string): string {
  const fields = current.split(',').map((f) => f.trim().toLowerCase());
  if (fields.includes('*') || fields.includes('origin')) return current;
  return current ? `${current}, Origin` : 'Origin';
}
