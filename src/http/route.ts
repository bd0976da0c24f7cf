/**
 * Declarative routes. Every operation is one RouteSpec: method, path, who may call it,
 * the zod schemas of its input, and a handler that returns the response payload.
 * The same list mounts the Express routes, answers 405s, builds the OpenAPI document
 * and feeds the authorization-matrix test, so none of them can drift apart.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import { match } from 'path-to-regexp';
import type { z } from 'zod';
import type { AppDeps } from '../app-deps.js';
import type { Preload } from '../services/auth/session.js';
import type { AuthUser } from '../services/auth/tokens.js';
import { sendSuccess } from './envelope.js';
import { AppError } from './errors.js';
import { authenticateRequest, type PreloadFor } from './middleware/authenticate.js';
import { unsupportedMediaType } from './middleware/body.js';
import { containsNul, type ErrorStyle, isPlainObject, MAX_BODY_DEPTH, nestedDeeperThan, NUL_MESSAGE, parseOrThrow } from './validation.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * Who may call a route. `public`: anyone. `user`: any authenticated user; resource-level
 * checks (workspace roles, ownership) happen in the policy module, called by the service.
 */
export type Access = 'public' | 'user';

export interface HandlerContext<B, Q> {
  req: Request;
  res: Response;
  deps: AppDeps;
  /** The authenticated caller (null only on public routes). */
  user: AuthUser;
  body: B;
  query: Q;
  params: Record<string, string>;
  /** The value of the route's preload; undefined when it has none or this request skipped it. */
  preloaded: unknown;
}

export interface RouteSpec<B = any, Q = any> {
  method: Method;
  /** Express path below /api, e.g. `/workspaces/:workspaceId` (below the server root when `root`). */
  path: string;
  /** Mounted at the server root instead of under /api (the MCP endpoint). */
  root?: boolean;
  /** Operation id from the contract (A1, W3, …) or a new name. */
  operationId: string;
  summary: string;
  /** Longer OpenAPI description (fields of a raw response, caveats). */
  description?: string;
  tag: string;
  access: Access;
  body?: z.ZodType<B>;
  /** How body validation errors are shaped (DRF field objects or one string). */
  bodyErrors?: ErrorStyle;
  query?: z.ZodType<Q>;
  /** Success status (200 by default). */
  status?: number;
  /** Middleware that runs after authentication and before validation (rate limits, uploads). */
  before?: RequestHandler[];
  /** Request body media type for OpenAPI when it is not JSON. */
  requestMediaType?: 'multipart/form-data';
  /** The handler writes the response itself (raw download, SSE); its return value is ignored. */
  raw?: boolean;
  /**
   * A read that rides along with the authentication lookup, in the same statement: on the
   * hottest routes (the polled workspace list, chat) it saves a database round trip. Gets the
   * verified caller's id, the path params and the query as the route's schema parses it; not
   * run when those are invalid (the handler's own checks answer them, and then it sees
   * `preloaded` undefined, as it must handle anyway).
   */
  preload?(input: { userId: string; params: Record<string, string>; query: Q }): Preload;
  /** Extra documented responses: status → description. */
  responses?: Record<number, string>;
  handler(ctx: HandlerContext<B, Q>): Promise<unknown> | unknown;
}

export const defineRoute = <B, Q>(spec: RouteSpec<B, Q>): RouteSpec<B, Q> => spec;

function asyncHandler(deps: AppDeps, spec: RouteSpec): (req: Request, res: Response) => Promise<void> {
  return async (req: Request, res: Response) => {
    // Multipart routes read their body in their own middleware (the upload).
    if (spec.body && !spec.requestMediaType) {
      const refused = unsupportedMediaType(req);
      if (refused) throw refused;
    }
    // A missing or empty body counts as {} (D1); form bodies arrive as objects too.
    const rawBody: unknown = req.body === undefined ? {} : req.body;
    if (nestedDeeperThan(rawBody, MAX_BODY_DEPTH)) throw new AppError(400, `Request body nested deeper than ${MAX_BODY_DEPTH} levels`);
    const body = spec.body ? parseOrThrow(spec.body, rawBody, spec.bodyErrors ?? 'string') : rawBody;
    const query = spec.query ? parseOrThrow(spec.query, { ...req.query }, 'prefixed') : req.query;
    // Fields whose schema lets NUL through (ids, search terms, free-form objects) would reach PostgreSQL with it.
    if (containsNul(body) || containsNul(query)) {
      throw new AppError(400, spec.bodyErrors === 'fields' ? { non_field_errors: [NUL_MESSAGE] } : NUL_MESSAGE);
    }
    const result = await spec.handler({
      req,
      res,
      deps,
      user: res.locals.user as AuthUser,
      body,
      query,
      params: req.params as Record<string, string>,
      preloaded: res.locals.preloaded,
    });
    if (!spec.raw && !res.headersSent) sendSuccess(res, spec.status ?? 200, result);
  };
}

/** The spec's preload for a request, or null when its params or query would not pass validation. */
function preloadOf(spec: RouteSpec): PreloadFor | undefined {
  const build = spec.preload;
  if (!build) return undefined;
  return (req, userId) => {
    const params = req.params as Record<string, string>;
    if (containsNul(params)) return null;
    let query: unknown = req.query;
    if (spec.query) {
      const parsed = spec.query.safeParse({ ...req.query });
      if (!parsed.success) return null;
      query = parsed.data;
    }
    if (containsNul(query)) return null;
    return build({ userId, params, query });
  };
}

/**
 * What runs before a route's own middleware: authentication (user routes), then the path
 * check. Path ids containing NUL name no row and cannot even be compared in PostgreSQL (text
 * cannot hold NUL): such a path is a 404 before any query. Null when a route needs neither.
 */
function guardOf(deps: AppDeps, spec: RouteSpec): ((req: Request, res: Response) => Promise<void>) | null {
  const user = spec.access === 'user';
  const params = spec.path.includes(':');
  if (!user && !params) return null;
  const preload = preloadOf(spec);
  return async (req, res) => {
    if (user) await authenticateRequest(deps, req, res, preload);
    if (params && containsNul(req.params)) throw new AppError(404, 'Not found');
  };
}

export function mountRoutes(router: Router, deps: AppDeps, specs: RouteSpec[], base = ''): void {
  for (const spec of specs) {
    const path = spec.path.slice(base.length) || '/';
    const guard = guardOf(deps, spec);
    const handle = asyncHandler(deps, spec);
    const before = spec.before ?? [];
    if (before.length === 0) {
      // Most routes: guard and handler in one step, one layer and one promise per request.
      router[spec.method](path, guard ? async (req: Request, res: Response) => (await guard(req, res), handle(req, res)) : handle);
    } else {
      const guarded: RequestHandler[] = guard ? [async (req, res, next) => (await guard(req, res), next())] : [];
      router[spec.method](path, ...guarded, ...before, handle);
    }
  }
}

/**
 * The routes on one router per resource (the first path segment), each mounted on the app
 * at `prefix` + its segment, then the 405/404 handler at `prefix`: a request walks the routes
 * of its own resource only, through one router below the app's. Paths must start with a
 * literal segment.
 */
export function mountResources(app: Router, prefix: string, deps: AppDeps, specs: RouteSpec[]): void {
  const byResource = new Map<string, RouteSpec[]>();
  for (const spec of specs) {
    const segment = spec.path.split('/')[1] ?? '';
    if (!segment || segment.startsWith(':')) throw new Error(`${spec.operationId}: a route path must start with a literal segment (${spec.path})`);
    byResource.set(segment, [...(byResource.get(segment) ?? []), spec]);
  }
  for (const [segment, group] of byResource) {
    const router = express.Router({ strict: false });
    mountRoutes(router, deps, group, `/${segment}`);
    app.use(`${prefix}/${segment}`, router);
  }
  app.use(prefix || '/', methodNotAllowedOrNotFound(deps, specs));
}

/**
 * The last handler under /api: a known path with another method gets 405 (after
 * authentication, as DRF does); anything else gets the 404 envelope.
 */
export function methodNotAllowedOrNotFound(deps: AppDeps, specs: RouteSpec[]): RequestHandler {
  const matchers = specs.map((spec) => ({ spec, test: match(spec.path, { decode: decodeURIComponent }) }));
  return async (req: Request, res: Response, next: NextFunction) => {
    const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
    const same = matchers.filter((m) => m.test(path));
    if (same.length === 0) return next(new AppError(404, 'Not found'));
    const allowed = [...new Set(same.map((m) => m.spec.method.toUpperCase()))];
    res.setHeader('Allow', [...allowed, 'OPTIONS'].join(', '));
    if (req.method === 'OPTIONS') return sendSuccess(res, 200, { methods: [...allowed, 'OPTIONS'] });
    if (same.every((m) => m.spec.access === 'user')) await authenticateRequest(deps, req, res);
    next(new AppError(405, `Method "${req.method}" not allowed.`));
  };
}

export { isPlainObject };
