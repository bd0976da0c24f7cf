/// <reference types="vite/client" />
/**
 * The authorization matrix. The route list comes from the app itself (its RouteSpecs,
 * cross-checked against the Express router), the expectations from every rows file in
 * ./rows. A mounted route without a row, or a row naming no route, fails the suite; so does
 * a user route without a policy. Then every row is sent as every actor and the status
 * compared (refusals must not carry data), and every action of every rule table must have
 * been decided by some row.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RouteSpec } from '../../src/http/route.js';
import { ALL_ACTIONS, onDecision, RESOURCES } from '../../src/policies/index.js';
import { describeEachStorage } from '../support/app.js';
import { contractKey, mountedRoutes } from '../support/routes.js';
import { createMatrixFixture } from './fixture.js';
import type { ApiKeyScope } from '../../src/policies/index.js';
import { ACTORS, type Actor, KEY_SCOPES, type MatrixFixture, type MatrixRow, type PreparedRequest } from './types.js';

const modules = import.meta.glob<{ rows: MatrixRow[] }>('./rows/*.ts', { eager: true });
const rows = Object.entries(modules).flatMap(([file, mod]) => mod.rows.map((row) => ({ row, file: file.replace('./rows/', '') })));

const routeKey = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

/** Resource ids appearing in a path (workspace-…, conv-…, inv-…), which a refusal must not echo back with data. */
const idsIn = (path: string) => path.match(/\b(?:workspace|tm|inv|int|conv|memory|msg|load|activity|key)-[0-9a-f]{12}\b/g) ?? [];

describeEachStorage('authorization matrix', (ctx) => {
  let fixture: MatrixFixture;
  let specs: Map<string, RouteSpec>;
  /** Every `resource: action` some request had decided, with whether it was allowed or refused. */
  const decided = new Map<string, Set<'allowed' | 'refused'>>();
  let stopListening = () => {};

  beforeAll(async () => {
    fixture = await createMatrixFixture(ctx());
    specs = new Map(ctx().app.routeSpecs.map((s) => [contractKey(s), s]));
    stopListening = onDecision((resource, action, decision) => {
      const key = `${resource}: ${action}`;
      decided.set(key, (decided.get(key) ?? new Set()).add(decision === true ? 'allowed' : 'refused'));
    });
  });
  afterAll(() => stopListening());

  it('every user route declares a policy on a known resource; public routes declare none', () => {
    const problems = ctx().app.routeSpecs.flatMap((spec) => {
      const where = `${spec.operationId} ${routeKey(spec.method, spec.path)}`;
      if (spec.access === 'public') return spec.policy ? [`${where}: public with a policy`] : [];
      if (!spec.policy) return [`${where}: no policy`];
      const { resource, action } = spec.policy;
      if (!RESOURCES.includes(resource as never)) return [`${where}: ${resource.name} is not a known resource`];
      return Object.hasOwn(resource.rules, action) ? [] : [`${where}: ${resource.name} has no action ${action}`];
    });
    expect(problems).toEqual([]);
  });

  it('every mounted route has a row and every row names a mounted route', () => {
    const app = ctx().app;
    const fromSpecs = new Set(app.routeSpecs.map((s) => routeKey(s.method, s.path)));
    expect(mountedRoutes(app).map((r) => routeKey(r.method, r.path)).sort()).toEqual([...fromSpecs].sort());
    expect(new Set(app.routeSpecs.map(contractKey)).size).toBe(app.routeSpecs.length);
    const covered = new Set(rows.map((r) => r.row.operationId));
    expect(app.routeSpecs.filter((s) => !covered.has(contractKey(s))).map((s) => `${s.operationId} ${routeKey(s.method, s.path)}`), 'routes without a matrix row').toEqual([]);
    expect(rows.filter((r) => !specs.has(r.row.operationId)).map((r) => `${r.file}: ${r.row.operationId}`), 'rows naming no route').toEqual([]);
  });

  /** Sends the request as `actor`, or as the key holder of `key` (with the key in place of any Authorization). */
  async function send(spec: RouteSpec, actor: Actor, req: PreparedRequest, key?: ApiKeyScope) {
    const app = ctx();
    let call = app.http[spec.method](spec.root ? req.path : `/api${req.path}`);
    if (req.query) call = call.query(req.query);
    const given = req.headers ?? (actor === 'anonymous' ? {} : fixture.sessions[actor].auth);
    const headers = key ? { ...Object.fromEntries(Object.entries(given).filter(([k]) => k.toLowerCase() !== 'authorization')), ...fixture.keys[key] } : given;
    for (const [k, v] of Object.entries(headers)) call = call.set(k, v);
    if (req.attach) {
      for (const [k, v] of Object.entries(req.fields ?? {})) call = call.field(k, v);
      call = call.attach(req.attach[0], req.attach[1], req.attach[2]);
    } else if (req.body !== undefined) call = call.send(req.body as object);
    return call;
  }

  for (const { row, file } of rows) {
    it(`${row.operationId} (${file})`, async () => {
      const spec = specs.get(row.operationId);
      expect(spec, `no route for ${row.operationId}`).toBeDefined();
      /** Sends one actor's request and says what is wrong with the answer. */
      const check = async (actor: Actor, key?: ApiKeyScope, prepared?: Promise<PreparedRequest>) => {
        const req = await (prepared ?? row.prepare(fixture, actor));
        const res = await send(spec!, actor, req, key);
        const who = key ? `key ${key}` : actor;
        const expected = key ? (row.keys?.[key] ?? (spec!.access === 'public' ? row.expect.owner : 403)) : row.expect[actor];
        const wanted = ([] as number[]).concat(expected);
        const issues: string[] = [];
        if (!wanted.includes(res.status)) issues.push(`${who}: ${res.status} (expected ${wanted.join('|')}) ${JSON.stringify(res.body).slice(0, 200)}`);
        if ([401, 403, 404].includes(res.status) && res.type === 'application/json') {
          if (res.body?.ok !== false || res.body?.data !== null) issues.push(`${who}: refusal ${res.status} carries data`);
          const body = JSON.stringify(res.body);
          for (const id of idsIn(req.path)) if (body.includes(id)) issues.push(`${who}: refusal echoes ${id}`);
        }
        return issues;
      };
      // Actors are independent (each row prepares its own data per actor), so they run in parallel;
      // the key holders (prepared as `owner`) first, so that rows sharing one subject per row still find it.
      // Keys the row expects refused share one request (a refusal changes nothing): less data for the owner's export.
      const refusing = spec!.access === 'user' ? KEY_SCOPES.filter((scope) => row.keys?.[scope] === undefined) : [];
      const shared = refusing.length ? Promise.resolve(row.prepare(fixture, 'owner')) : undefined;
      const byKeys = await Promise.all(KEY_SCOPES.map((scope) => check('owner', scope, refusing.includes(scope) ? shared : undefined)));
      const byActors = await Promise.all(ACTORS.map((actor) => check(actor)));
      expect([...byKeys, ...byActors].flat()).toEqual([]);
    });
  }

  // Runs after every row (tests of a file run in order).
  it('every policy action is exercised by some row, allowed for some actor and refused for another', () => {
    expect(ALL_ACTIONS.filter((a) => !decided.has(a)), 'actions no row exercised').toEqual([]);
    const oneSided = ALL_ACTIONS.filter((a) => !a.startsWith('account:') && decided.get(a)?.size !== 2);
    expect(oneSided, 'actions never both allowed and refused').toEqual([]);
  });
});
