/**
 * The Express application without listen(), so tests mount it directly.
 * Pipeline: request id + log line → security and CORS headers → body parsing → /api routes
 * (http/route.ts: authenticate → load → authorize → route middleware → validate → handler →
 * envelope) → 405/404 → error envelope.
 */
import express, { type Express } from 'express';
import type { AppDeps } from './app-deps.js';
import { AppError } from './lib/errors.js';
import { parseBody } from './http/middleware/body.js';
import { errorHandler } from './http/middleware/error-handler.js';
import { securityAndCorsHeaders } from './fast/security-headers.js';
import { requestLog } from './http/middleware/request-log.js';
import { mountResources, type RouteSpec } from './http/route.js';
import { allRoutes } from './routes/index.js';

export interface ChimeraApp extends Express {
  routeSpecs: RouteSpec[];
}

const ALLOWED_HEADERS = ['accept', 'accept-encoding', 'authorization', 'content-type', 'dnt', 'origin', 'user-agent', 'x-csrftoken', 'x-requested-with', 'x-request-id', 'if-none-match'];

export function createApp(deps: AppDeps): ChimeraApp {
  const app = express() as unknown as ChimeraApp;
  app.disable('x-powered-by');
  app.set('trust proxy', deps.config.trustProxy);
  app.set('etag', 'weak'); // If-None-Match → 304 on every GET (D21)
  app.set('query parser', 'simple');

  app.use(requestLog(deps.logger));
  app.use(
    securityAndCorsHeaders(
      {
        contentSecurityPolicy: {
          useDefaults: false,
          directives: { defaultSrc: ["'none'"], scriptSrc: ["'self'"], styleSrc: ["'unsafe-inline'"], connectSrc: ["'self'"], frameAncestors: ["'none'"] },
        },
        // TLS is terminated in front of the API when there is any; HSTS belongs there.
        strictTransportSecurity: false,
        crossOriginResourcePolicy: { policy: 'cross-origin' },
      },
      {
        origins: deps.config.corsOrigins,
        methods: ['DELETE', 'GET', 'OPTIONS', 'PATCH', 'POST', 'PUT'],
        allowedHeaders: ALLOWED_HEADERS,
        exposedHeaders: ['ETag', 'X-Request-Id', 'Retry-After'],
        maxAgeSeconds: 86400,
      },
    ),
  );
  app.use(parseBody(deps.config.bodyLimit));

  const specs = allRoutes(deps);
  mountResources(app, '/api', deps, specs.filter((s) => !s.root));
  // The MCP server (Streamable HTTP) lives outside /api, as MCP clients expect a bare endpoint.
  mountResources(app, '', deps, specs.filter((s) => s.root));
  app.use((_req, _res, next) => next(new AppError(404, 'Not found')));
  app.use(errorHandler(deps.logger));
  app.routeSpecs = specs;
  return app;
}
