/// <reference types="vite/client" />
/**
 * The authorization matrix. The route list comes from the app itself (its RouteSpecs,
 * cross-checked against the Express router), the expectations from every rows file in
 * ./rows. A mounted route without a row, or a row naming no route, fails the suite; then
 * every row is sent as every actor and the status compared. Refusals must not carry data.
 */
import { beforeAll, expect, it } from 'vitest';
import type { RouteSpec } from '../../src/http/route.js';
import { describeEachStorage } from '../support/app.js';
import { mountedRoutes } from '../support/routes.js';
import { createMatrixFixture } from './fixture.js';
import { ACTORS, type Actor, type MatrixFixture, type MatrixRow, type PreparedRequest } from './types.js';

const modules = import.meta.glob<{ rows: MatrixRow[] }>('./rows/*.ts', { eager: true });
const rows = Object.entries(modules).flatMap(([file, mod]) => mod.rows.map((row) => ({ row, file: file.replace('./rows/', '') })));

const routeKey = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

/** Resource ids appearing in a path (workspace-…, conv-…, inv-…), which a refusal must not echo back with data. */
const idsIn = (path: string) => path.match(/\b(?:workspace|tm|inv|int|conv|memory|msg|load|activity)-[0-9a-f]{12}\b/g) ?? [];

describeEachStorage('authorization matrix', (ctx) => {
  let fixture: MatrixFixture;
  let specs: Map<string, RouteSpec>;

  beforeAll(async () => {
    fixture = await createMatrixFixture(ctx());
    specs = new Map(ctx().app.routeSpecs.map((s) => [s.operationId, s]));
  });

  it('every mounted route has a row and every row names a mounted route', () => {
    const app = ctx().app;
    const fromSpecs = new Set(app.routeSpecs.map((s) => routeKey(s.method, s.path)));
    expect(mountedRoutes(app).map((r) => routeKey(r.method, r.path)).sort()).toEqual([...fromSpecs].sort());
    expect(new Set(app.routeSpecs.map((s) => s.operationId)).size).toBe(app.routeSpecs.length);
    const covered = new Set(rows.map((r) => r.row.operationId));
    expect(app.routeSpecs.filter((s) => !covered.has(s.operationId)).map((s) => `${s.operationId} ${routeKey(s.method, s.path)}`), 'routes without a matrix row').toEqual([]);
    expect(rows.filter((r) => !specs.has(r.row.operationId)).map((r) => `${r.file}: ${r.row.operationId}`), 'rows naming no route').toEqual([]);
  });

  async function send(spec: RouteSpec, actor: Actor, req: PreparedRequest) {
    const app = ctx();
    let call = app.http[spec.method](spec.root ? req.path : `/api${req.path}`);
    if (req.query) call = call.query(req.query);
    const headers = req.headers ?? (actor === 'anonymous' ? {} : fixture.sessions[actor].auth);
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
      // Actors are independent (each row prepares its own data per actor), so they run in parallel.
      const problems = await Promise.all(
        ACTORS.map(async (actor) => {
          const req = await row.prepare(fixture, actor);
          const res = await send(spec!, actor, req);
          const wanted = ([] as number[]).concat(row.expect[actor]);
          const issues: string[] = [];
          if (!wanted.includes(res.status)) issues.push(`${actor}: ${res.status} (expected ${wanted.join('|')}) ${JSON.stringify(res.body).slice(0, 200)}`);
          if ([401, 403, 404].includes(res.status) && res.type === 'application/json') {
            if (res.body?.ok !== false || res.body?.data !== null) issues.push(`${actor}: refusal ${res.status} carries data`);
            const body = JSON.stringify(res.body);
            for (const id of idsIn(req.path)) if (body.includes(id)) issues.push(`${actor}: refusal echoes ${id}`);
          }
          return issues;
        }),
      );
      expect(problems.flat()).toEqual([]);
    });
  }
});
