/**
 * The authorization matrix: for every mounted route (by contract id or operationId) and every actor, the
 * status the API must answer. Rows live in tests/authz/rows/<resource>.ts, each exporting
 * `rows: MatrixRow[]`; tests/authz/matrix.test.ts fails for a mounted route without a row.
 */
import { API_KEY_SCOPES, type ApiKeyScope } from '../../src/policies/index.js';
import type { TestApp } from '../support/app.js';
import type { Session } from '../support/factories.js';

export const ACTORS = ['anonymous', 'stranger', 'observer', 'researcher', 'admin', 'owner'] as const;
export type Actor = (typeof ACTORS)[number];

/**
 * Key holders: one API key of `owner` per scope, holding that scope alone. Each row is
 * prepared for them as for `owner` and sent with the key instead of the owner's token.
 */
export const KEY_SCOPES = API_KEY_SCOPES;

export interface MatrixFixture {
  app: TestApp;
  /** One user per role; `stranger` is authenticated but belongs to no workspace of the owner. */
  sessions: Record<Exclude<Actor, 'anonymous'>, Session>;
  /** The key holders' Authorization headers, by the one scope each key holds. */
  keys: Record<ApiKeyScope, Record<string, string>>;
  /** A fresh workspace owned by `owner` where observer, researcher and admin hold those roles. */
  freshWorkspace(): Promise<{ id: string }>;
}

export interface PreparedRequest {
  /** The concrete path below /api, ids filled in, e.g. `/workspaces/workspace-abc/stats`. */
  path: string;
  body?: unknown;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** multipart: [field, content, filename] */
  attach?: [string, Buffer, string];
  fields?: Record<string, string>;
}

export interface MatrixRow {
  /** The route this row covers: its contract id (RouteSpec.contractId), or its operationId when it has none. */
  operationId: string;
  /** Builds the request for one actor, on fresh data where the operation changes state. */
  prepare(f: MatrixFixture, actor: Actor): Promise<PreparedRequest> | PreparedRequest;
  /** Expected status per actor (a list where several are acceptable). */
  expect: Record<Actor, number | number[]>;
  /**
   * Expected status per key holder, by its scope. A scope left out expects what `owner` gets on
   * a public route and 403 on any other: keys reach only what some scope grants.
   */
  keys?: Partial<Record<ApiKeyScope, number | number[]>>;
}

/** Shorthand for public routes: the same status for everyone, anonymous included. */
export const everyone = (status: number): Record<Actor, number> => ({
  anonymous: status, stranger: status, observer: status, researcher: status, admin: status, owner: status,
});

/** Shorthand: the same status for every authenticated actor, 401 for anonymous. */
export const everyUser = (status: number): Record<Actor, number> => ({
  anonymous: 401, stranger: status, observer: status, researcher: status, admin: status, owner: status,
});

/** Shorthand for workspace-scoped routes: 401 anonymous, 403 stranger, then `denied` below `least`, `ok` from it. */
export function byRole(least: Exclude<Actor, 'anonymous' | 'stranger'>, ok: number, denied = 403): Record<Actor, number> {
  const order = ['observer', 'researcher', 'admin', 'owner'] as const;
  const at = order.indexOf(least);
  return {
    anonymous: 401,
    stranger: 403,
    observer: 0 >= at ? ok : denied,
    researcher: 1 >= at ? ok : denied,
    admin: 2 >= at ? ok : denied,
    owner: ok,
  };
}
