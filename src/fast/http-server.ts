/**
 * Speed layer: the node:http server of an Express app, building request and response objects
 * that are already shaped as Express's.
 *
 * Replaces: node:http's own IncomingMessage and ServerResponse, which Express re-types at
 * dispatch (app.handle calls Object.setPrototypeOf on both). On objects node:http has already
 * built, V8 answers that with a hidden class of their own, so no two requests share one; every
 * property access on req or res then misses its inline cache. Here node:http constructs them
 * from classes whose prototypes are app.request and app.response themselves, so Express's
 * setPrototypeOf finds the prototype in place and changes nothing. It relies on two Express
 * internals: app.request/app.response are objects whose prototype chain leads to Express's
 * request/response, and app.handle sets those prototypes.
 *
 * Gain: the profile route's server CPU is 100 µs per request with it and 249 µs without
 * (0.68× against 0.28× the bare baseline's throughput, p99 0.9× against 3.8× its p99; an
 * earlier run: 98 against 230 µs). Measured with the foundation bench's load (GET
 * /api/auth/profile, PostgreSQL, 32 connections), both builds in the same run, 5 interleaved
 * rounds, 2026-12-05. To measure it again, return createServer(listener) below and run
 * `npm run bench foundation` on both builds.
 *
 * Pinned by: tests/unit/http-server.test.ts (Express behaves as with a plain server: params,
 * query, ip, xhr, headers, ETag; every request and response of a keep-alive connection shares
 * one V8 hidden class, checked with %HaveSameMap).
 *
 * Remove when: Express stops re-typing requests with setPrototypeOf (the hidden-class test then
 * passes with http.createServer(app) too), or changes either internal above (that test fails).
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
