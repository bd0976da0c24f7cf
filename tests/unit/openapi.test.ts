import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { documentPath } from '../../src/openapi/document.js';
import { renderOpenApiYaml } from '../../src/openapi/yaml.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { mountedRoutes } from '../support/routes.js';

const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const root = new URL('../..', import.meta.url);

type Operation = { operationId: string; responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }> };
type Doc = { openapi: string; servers: { url: string }[]; paths: Record<string, Record<string, Operation>> };

const committed = () => parse(readFileSync(new URL('openapi.yaml', root), 'utf8')) as Doc;
const operations = (doc: Doc) =>
  Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).filter(([m]) => HTTP_METHODS.includes(m)).map(([method, op]) => ({ path, method, op })));

describe('openapi.yaml', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp('pglite');
  });
  afterAll(() => app.close());

  it('is the document generated from the route definitions (run `npm run openapi` after changing a route)', async () => {
    expect(readFileSync(new URL('openapi.yaml', root), 'utf8')).toBe(await renderOpenApiYaml());
  });

  it('describes exactly the routes mounted in the app, at their full paths', () => {
    const documented = operations(committed()).map(({ path, method }) => `${method.toUpperCase()} ${path}`).sort();
    const rootPaths = new Set(app.app.routeSpecs.filter((s) => s.root).map((s) => s.path));
    const mounted = mountedRoutes(app.app)
      .map((r) => `${r.method} ${documentPath({ path: r.path, root: rootPaths.has(r.path) })}`)
      .sort();
    expect(documented).toEqual(mounted);
  });

  it("types every operation's success: JSON responses name their data, other bodies their media type", () => {
    const untyped = operations(committed()).flatMap(({ op }) =>
      Object.entries(op.responses)
        .filter(([status]) => /^2/.test(status))
        .flatMap(([status, response]) =>
          Object.entries(response.content ?? {}).flatMap(([mediaType, media]) => {
            const data = (media.schema.properties as Record<string, Record<string, unknown>> | undefined)?.data;
            if (mediaType !== 'application/json' || !data) return [];
            return Object.keys(data).length === 0 ? [`${op.operationId} ${status}`] : [];
          }),
        ),
    );
    expect(untyped).toEqual([]);
  });

  it('is served raw at /api/openapi.json and /api/openapi.yaml, its server the one asked', async () => {
    const json = await app.http.get('/api/openapi.json');
    expect(json.status).toBe(200);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect(json.body.openapi).toBe('3.1.0');
    expect(json.body.paths).toEqual(committed().paths);
    const port = new URL(`http://${json.request.url.split('/')[2]}`).port;
    expect(json.body.servers[0].url).toBe(`http://127.0.0.1:${port}`);

    const yaml = await app.http.get('/api/openapi.yaml');
    expect(yaml.status).toBe(200);
    expect(yaml.headers['content-type']).toMatch(/^application\/yaml/);
    expect(parse(yaml.text)).toEqual(json.body);
  });

  it('serves the docs page with and without the trailing slash, its script and document by absolute URLs', async () => {
    for (const path of ['/api/docs', '/api/docs/']) {
      const page = await app.http.get(path);
      expect(page.status, path).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.text).toContain('<script src="/api/docs/app.js">');
    }
    const script = await app.http.get('/api/docs/app.js');
    expect(script.headers['content-type']).toMatch(/^text\/javascript/);
    expect(script.text).toContain("fetch('/api/openapi.json')");
  });
});

describe('ENABLE_DOCS=false', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp('pglite', { ENABLE_DOCS: 'false' });
  });
  afterAll(() => app.close());

  it('turns off the document and the docs page', async () => {
    for (const path of ['/api/openapi.json', '/api/openapi.yaml', '/api/docs', '/api/docs/app.js']) {
      const res = await app.http.get(path);
      expect([res.status, res.body], path).toEqual([404, { ok: false, data: null, error: 'Not found' }]);
    }
    expect((await app.http.get('/api/health')).status).toBe(200);
  });
});

describe('redocly lint (recommended rules)', () => {
  it('finds no error and no warning in openapi.yaml', async () => {
    const bin = new URL('node_modules/.bin/redocly', root).pathname;
    const run = await promisify(execFile)(bin, ['lint', 'openapi.yaml', '--format=json'], { cwd: root.pathname, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } })
      .catch((error: { stdout: string; stderr: string }) => error);
    const report = JSON.parse(run.stdout) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; message: string }[] };
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });
});
