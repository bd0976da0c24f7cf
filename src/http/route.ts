/**
 * Declarative routes. Every operation is one RouteSpec: method, path, who may call it, the
 * zod schemas of its input, and a handler that returns the response payload. The same list
 * mounts the Express routes, answers 405s, builds the OpenAPI document and feeds the
 * authorization-matrix test, so none of them can drift apart.
 *
 * Every route runs the same pipeline, in this order:
 *   1. authenticate (401), `user` routes only;
 *   2. load the subject its policy names, from the path params (404);
 *   3. authorize the action on it through the policy's rule table (403, or 404 where the
 *      subject's existence must not show);
 *   4. the route's own middleware (`before`: rate limits, uploads);
 *   5. validate the body (415 for another media type, then 400) and the query (400); a
 *      rule's own 400 (the request conflicts with the subject's state, e.g. removing the
 *      workspace owner) is answered here, after them;
 *   6. the handler, which gets the params, subject and preload typed.
 * Steps 1 and 2 are one database statement: the subject's loader (and the route's preload)
 * ride along with the authentication lookup.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import { match } from 'path-to-regexp';
import type { z } from 'zod';
import type { Preload, Riders } from '../data/sessions.js';
import { AppError } from '../lib/errors.js';
import { decide, type Requirement, subjectOf } from '../policies/index.js';
import { type Authenticator, authenticateRequest, type RidersFor } from './authenticate.js';
import { sendSuccess } from './envelope.js';
import { unsupportedMediaType } from './middleware/body.js';
import { containsNul, type ErrorStyle, MAX_BODY_DEPTH, nestedDeeperThan, NUL_MESSAGE, parseOrThrow, validOrThrow } from './validation.js';

/**
 * The application's own types, which the framework hands to handlers without knowing them:
 * `deps`, its collaborators (among them the `authenticator` that step 1 runs), and `user`, the
 * caller that authenticator returns. The application declares both by augmenting this
 * interface (src/app-deps.ts), so http/ imports nothing of the application.
 */
export interface Application {}

/** What handlers get as `deps` (AppDeps). */
export type Deps = Application extends { deps: infer D } ? D : { authenticator: Authenticator<{ exp: number }, Caller> };
/** What handlers get as `user` (AuthUser). */
export type Caller = Application extends { user: infer U } ? U : { id: string };

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** The parameter names of a path: `/workspaces/:workspaceId/team/:userId` → `'workspaceId' | 'userId'`. */
export type PathParamNames<P extends string> = string extends P
  ? string
  : P extends `${string}:${infer Name}/${infer Rest}`
    ? Name | PathParamNames<`/${Rest}`>
    : P extends `${string}:${infer Name}`
      ? Name
      : never;

/** The params a handler gets: exactly the path's, as strings. */
export type PathParams<P extends string> = string extends P ? Readonly<Record<string, string>> : { readonly [K in PathParamNames<P>]: string };

export interface HandlerContext<P extends string, B, Q, S, T> {
  req: Request;
  res: Response;
  deps: Deps;
  /** The authenticated caller (undefined on public routes). */
  user: Caller;
  body: B;
  query: Q;
  params: PathParams<P>;
  /** What the route's policy loaded and authorized (the caller on account routes; undefined on public routes). */
  subject: S;
  /** The value of the route's preload (undefined when it has none). */
  preloaded: T;
}

interface RouteBase<P extends string, B, Q> {
  method: Method;
  /** Express path below /api, e.g. `/workspaces/:workspaceId` (below the server root when `root`). */
  path: P;
  /** Mounted at the server root instead of under /api (the MCP endpoint). */
  root?: boolean;
  /**
   * The realm its 401s name in `WWW-Authenticate` (`api` by default), and what the challenge
   * tells a client that sent no credentials (as error_description: printable ASCII, no quotes).
   */
  realm?: { name: string; hint: string };
  /** OpenAPI operation id: a verb and a noun, the method name of generated clients (`listConversations`). */
  operationId: string;
  /** The contract's id of the operation (A1, W3, …), when it has one. */
  contractId?: string;
  summary: string;
  /** Longer OpenAPI description (fields of a raw response, caveats). */
  description?: string;
  tag: string;
  body?: z.ZodType<B>;
  /** How body validation errors are shaped (DRF field objects or one string). */
  bodyErrors?: ErrorStyle;
  query?: z.ZodType<Q>;
  /** Success status (200 by default). */
  status?: number;
  /** Middleware that runs after authorization and before validation (rate limits, uploads). */
  before?: RequestHandler[];
  /** Request body media type for OpenAPI when it is not JSON. */
  requestMediaType?: 'multipart/form-data';
  /** The handler writes the response itself (raw download, SSE); its return value is ignored. */
  raw?: boolean;
  /** The success response: the zod schema of the envelope's `data`, or a body that is not the envelope. */
  response?: z.ZodType | ResponseDoc;
  /** Request body for the document when the handler reads the body itself (`raw` routes). */
  requestDoc?: z.ZodType;
  /** Other documented responses: status → description, or a description with what that response carries. */
  responses?: Record<number, string | ResponseDoc>;
}

/** A documented response beyond a description: the `data` of its envelope, or a body of its own. */
export interface ResponseDoc {
  description: string;
  /** The envelope's `data` (on a failure: what it carries besides the message). */
  data?: z.ZodType;
  /** A body that is not the envelope: media type → schema of the body (null: text, no schema). */
  content?: Record<string, z.ZodType | null>;
  /** Response headers: name → description. */
  headers?: Record<string, string>;
  /** A text/event-stream body: event name → schema of the event's JSON data. */
  events?: Record<string, z.ZodType>;
}

/** A route anyone may call: no authentication, no policy. */
export interface PublicRoute<P extends string, B, Q> extends RouteBase<P, B, Q> {
  access: 'public';
  policy?: never;
  preload?: never;
  handler(ctx: HandlerContext<P, B, Q, undefined, undefined>): Promise<unknown> | unknown;
}

/**
 * A route for authenticated users. It must declare its policy: the action it needs on a
 * resource (`workspace.can('update')`), whose subject is loaded by the path's params (a
 * resource loaded by params the path lacks does not compile). Routes acting on the caller's
 * own data declare `account.can(…)`.
 */
export interface UserRoute<P extends string, B, Q, S, T> extends RouteBase<P, B, Q> {
  access: 'user';
  policy: Requirement<PathParamNames<P>, S>;
  /** A read riding along with the authentication lookup (see Preload); the handler gets its value as `preloaded`. */
  preload?: Preload<T, PathParamNames<P>, Q>;
  handler(ctx: HandlerContext<P, B, Q, S, T>): Promise<unknown> | unknown;
}

/** A route of any shape, as the route list holds them. */
export type RouteSpec = PublicRoute<string, any, any> | UserRoute<string, any, any, any, any>;

export function defineRoute<P extends string, B = unknown, Q = unknown>(spec: PublicRoute<P, B, Q>): RouteSpec;
export function defineRoute<P extends string, B = unknown, Q = unknown, S = unknown, T = undefined>(spec: UserRoute<P, B, Q, S, T>): RouteSpec;
export function defineRoute(spec: RouteSpec): RouteSpec {
  return spec;
}

/** Step 1, its 401 challenge naming the route's realm (RouteSpec.realm) when it declares one. */
async function inRealm<T>(realm: RouteBase<string, unknown, unknown>['realm'], authenticate: () => Promise<T>): Promise<T> {
  if (!realm) return authenticate();
  try {
    return await authenticate();
  } catch (error) {
    const challenge = error instanceof AppError && error.status === 401 ? error.headers['WWW-Authenticate'] : undefined;
    if (!(error instanceof AppError) || challenge === undefined) throw error;
    const named = challenge.replace(/^Bearer realm="[^"]*"/, `Bearer realm="${realm.name}"`);
    const told = named.includes('error=') ? named : `${named}, error_description="${realm.hint}"`;
    throw new AppError(401, error.error, error.data, { ...error.headers, 'WWW-Authenticate': told });
  }
}

/** What the guard (steps 1–3) hands to the rest of the pipeline. */
interface Guarded {
  user: Caller | undefined;
  subject: unknown;
  preloaded: unknown;
  /** The query as parsed before authentication (the preload needs it); its errors are answered at validation. */
  query: z.ZodSafeParseResult<unknown> | undefined;
  /** The policy's 400, answered after validation. */
  conflict: string | undefined;
}

const PUBLIC: Guarded = { user: undefined, subject: undefined, preloaded: undefined, query: undefined, conflict: undefined };

/** A misdeclared route fails at start-up, not on its first request. */
export function checkRouteSpec(spec: RouteSpec): void {
  const where = `${spec.operationId} ${spec.method.toUpperCase()} ${spec.path}`;
  if (spec.access === 'user') {
    const policy = spec.policy as Requirement<string, unknown> | undefined;
    if (!policy?.resource) throw new Error(`${where}: a user route must declare its policy (resource.can(action))`);
    if (!Object.hasOwn(policy.resource.rules, policy.action)) throw new Error(`${where}: ${policy.resource.name} has no action "${policy.action}"`);
    const params = new Set([...spec.path.matchAll(/:(\w+)/g)].map((m) => m[1]));
    const missing = (policy.resource.load?.keys ?? []).filter((key) => !params.has(key));
    if (missing.length) throw new Error(`${where}: ${policy.resource.name} is loaded by ${missing.join(', ')}, which the path lacks`);
  } else if (spec.access === 'public') {
    if (spec.policy || spec.preload) throw new Error(`${where}: a public route has no policy or preload`);
  } else {
    throw new Error(`${where}: access must be 'public' or 'user'`);
  }
}

/**
 * Steps 1–3 for one route: authenticate, load the subject, authorize. Path ids containing
 * NUL name no row and cannot even be compared in PostgreSQL (text cannot hold NUL): such a
 * path is a 404 before any query. Null for a public route without params (nothing to do).
 */
function guardOf(deps: Deps, spec: RouteSpec): ((req: Request, res: Response) => Promise<Guarded>) | null {
  const hasParams = spec.path.includes(':');
  if (spec.access === 'public') {
    if (!hasParams) return null;
    return async (req) => {
      if (containsNul(req.params)) throw new AppError(404, 'Not found');
      return PUBLIC;
    };
  }
  const { policy, preload } = spec as UserRoute<string, unknown, unknown, unknown, unknown>;
  const requirement = policy as Requirement<string, unknown>;
  const load = requirement.resource.load;
  const querySchema = spec.query;
  // The statement's name says which riders it carries (its text differs with each combination).
  const names = { both: `${requirement.resource.name}+${preload?.name}`, subject: requirement.resource.name, preload: `${preload?.name}` };
  return async (req, res) => {
    const params = req.params as Record<string, string>;
    const pathOk = !hasParams || !containsNul(params);
    const query = querySchema ? querySchema.safeParse({ ...req.query }) : undefined;
    // The preload runs only with a valid query; an invalid one is answered at validation, before the handler.
    const preloadQuery = preload === undefined ? undefined : query ? (query.success && !containsNul(query.data) ? query.data : undefined) : req.query;
    const withPreload = preload !== undefined && preloadQuery !== undefined && pathOk;
    const withSubject = load !== null && pathOk;
    const riders: RidersFor | undefined =
      withSubject || withPreload
        ? (caller): Riders => ({
            name: withSubject && withPreload ? names.both : withSubject ? names.subject : names.preload,
            subject: withSubject ? load.sql(caller.userId, params) : null,
            preload: withPreload ? preload.sql({ ...caller, params, query: preloadQuery }) : null,
          })
        : undefined;
    const loaded = await inRealm(spec.realm, () => authenticateRequest(deps.authenticator, req, res, riders));
    if (!pathOk) throw new AppError(404, 'Not found');
    const subject = load === null ? loaded.user : subjectOf(requirement.resource, loaded.subject);
    const decision = decide(loaded.user, requirement, subject);
    if (decision !== true && decision.status !== 400) throw new AppError(decision.status, decision.message);
    if (withPreload && !preload.check(loaded.preloaded)) throw new Error(`${spec.operationId}: preload ${preload.name} does not have the declared shape`);
    return { user: loaded.user, subject, preloaded: loaded.preloaded, query, conflict: decision === true ? undefined : decision.message };
  };
}

/** Steps 5–6: validate the body and the query, run the handler, send its result. */
function handlerOf(deps: Deps, spec: RouteSpec): (req: Request, res: Response, guarded: Guarded) => Promise<void> {
  return async (req, res, guarded) => {
    // A body of another media type is a validation failure (415), answered after authorization.
    // Multipart routes read their body in their own middleware (the upload).
    if (spec.body && !spec.requestMediaType) {
      const refused = unsupportedMediaType(req);
      if (refused) throw refused;
    }
    // A missing or empty body counts as {} (D1); form bodies arrive as objects too.
    const rawBody: unknown = req.body === undefined ? {} : req.body;
    if (nestedDeeperThan(rawBody, MAX_BODY_DEPTH)) throw new AppError(400, `Request body nested deeper than ${MAX_BODY_DEPTH} levels`);
    const body = spec.body ? parseOrThrow(spec.body, rawBody, spec.bodyErrors ?? 'string') : rawBody;
    const query = spec.query ? validOrThrow(guarded.query ?? spec.query.safeParse({ ...req.query }), 'prefixed') : req.query;
    // Fields whose schema lets NUL through (ids, search terms, free-form objects) would reach PostgreSQL with it.
    if (containsNul(body) || containsNul(query)) {
      throw new AppError(400, spec.bodyErrors === 'fields' ? { non_field_errors: [NUL_MESSAGE] } : NUL_MESSAGE);
    }
    if (guarded.conflict !== undefined) throw new AppError(400, guarded.conflict);
    const result = await spec.handler({
      req,
      res,
      deps,
      user: guarded.user as Caller,
      body,
      query,
      params: req.params as never,
      subject: guarded.subject as never,
      preloaded: guarded.preloaded as never,
    });
    if (!spec.raw && !res.headersSent) sendSuccess(res, spec.status ?? 200, result);
  };
}

export function mountRoutes(router: Router, deps: Deps, specs: RouteSpec[], base = ''): void {
  for (const spec of specs) {
    checkRouteSpec(spec);
    const path = spec.path.slice(base.length) || '/';
    const guard = guardOf(deps, spec);
    const handle = handlerOf(deps, spec);
    const before = spec.before ?? [];
    if (before.length === 0) {
      // Most routes: guard and handler in one step, one layer and one promise per request.
      router[spec.method](path, guard ? async (req: Request, res: Response) => handle(req, res, await guard(req, res)) : (req: Request, res: Response) => handle(req, res, PUBLIC));
    } else {
      // The guard's result waits in res.locals while the route's middleware runs.
      const guarded: RequestHandler[] = guard ? [async (req, res, next) => ((res.locals.guarded = await guard(req, res)), next())] : [];
      router[spec.method](path, ...guarded, ...before, (req: Request, res: Response) => handle(req, res, (res.locals.guarded as Guarded | undefined) ?? PUBLIC));
    }
  }
}

/**
 * The routes on one router per resource (the first path segment), each mounted on the app
 * at `prefix` + its segment, then the 405/404 handler at `prefix`: a request walks the routes
 * of its own resource only, through one router below the app's. Paths must start with a
 * literal segment.
 */
export function mountResources(app: Router, prefix: string, deps: Deps, specs: RouteSpec[]): void {
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
export function methodNotAllowedOrNotFound(deps: Deps, specs: RouteSpec[]): RequestHandler {
  const matchers = specs.map((spec) => ({ spec, test: match(spec.path, { decode: decodeURIComponent }) }));
  return async (req: Request, res: Response, next: NextFunction) => {
    const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
    const same = matchers.filter((m) => m.test(path));
    if (same.length === 0) return next(new AppError(404, 'Not found'));
    const allowed = [...new Set(same.map((m) => m.spec.method.toUpperCase()))];
    res.setHeader('Allow', [...allowed, 'OPTIONS'].join(', '));
    if (req.method === 'OPTIONS') return sendSuccess(res, 200, { methods: [...allowed, 'OPTIONS'] });
    if (same.every((m) => m.spec.access === 'user')) await inRealm(same[0]!.spec.realm, () => authenticateRequest(deps.authenticator, req, res));
    next(new AppError(405, `Method "${req.method}" not allowed.`));
  };
}

