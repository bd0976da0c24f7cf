/**
 * The node:http server of an Express app, building request and response objects that are
 * already shaped as Express's.
 *
 * Express gives every request and response its prototype at dispatch: app.handle calls
 * Object.setPrototypeOf on both. On objects node:http has already built, V8 answers that with
 * a hidden class of their own, so no two requests share one; every property access on req or
 * res then misses its inline cache and a request costs about twice the CPU. Here node:http
 * constructs them from classes whose prototypes are app.request and app.response themselves,
 * so Express's setPrototypeOf finds the prototype in place and changes nothing.
 */
import { createServer, IncomingMessage, type RequestListener, type Server, ServerResponse } from 'node:http';
import type { Express } from 'express';

interface ShapedClasses {
  IncomingMessage: typeof IncomingMessage;
  ServerResponse: typeof ServerResponse;
}

const classesOf = new WeakMap<Express, ShapedClasses>();

/** An http.Server for `app`; `listener` (default: the app) must hand requests to it. */
export function createHttpServer(app: Express, listener: RequestListener = app): Server {
  return createServer(expressShapedClasses(app), listener);
}

/** Request and response classes whose prototypes become app.request and app.response (once per app). */
export function expressShapedClasses(app: Express): ShapedClasses {
  let classes = classesOf.get(app);
  if (!classes) {
    class AppRequest extends IncomingMessage {}
    class AppResponse extends ServerResponse {}
    // app.request is Object.create(express's request, { app }): take its place in the chain.
    app.request = adopt(AppRequest.prototype, app.request) as unknown as Express['request'];
    app.response = adopt(AppResponse.prototype, app.response) as unknown as Express['response'];
    classes = { IncomingMessage: AppRequest, ServerResponse: AppResponse as typeof ServerResponse };
    classesOf.set(app, classes);
  }
  return classes;
}

/** Makes `target` stand in for `source`: same prototype, same own properties. */
function adopt<T extends object>(target: T, source: object): T {
  Object.setPrototypeOf(target, Object.getPrototypeOf(source));
  for (const key of Reflect.ownKeys(source)) Object.defineProperty(target, key, Object.getOwnPropertyDescriptor(source, key)!);
  return target;
}
