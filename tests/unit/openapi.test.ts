import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderOpenApiYaml } from '../../src/openapi/yaml.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { mountedRoutes } from '../support/routes.js';

const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete'];

describe('openapi.yaml', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp('pglite');
  });
  afterAll(() => app.close());

  it('is the document generated from the route definitions (run `npm run openapi` after changing a route)', async () => {
    const committed = readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8');
    expect(committed).toBe(await renderOpenApiYaml());
  });

  it('describes exactly the routes mounted in the app, and the app serves it', async () => {
    {
      const doc = parse(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8')) as { paths: Record<string, Record<string, unknown>> };
      const documented = Object.entries(doc.paths)
        .flatMap(([path, ops]) => Object.keys(ops).filter((k) => HTTP_METHODS.includes(k)).map((m) => `${m.toUpperCase()} ${path}`))
        .sort();
      const mounted = mountedRoutes(app.app)
        .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`)
        .sort();
      expect(documented).toEqual(mounted);

      const served = await app.http.get('/api/openapi.json');
      expect(served.status).toBe(200);
      expect(served.body.data.paths).toEqual(doc.paths);
      const page = await app.http.get('/api/docs');
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
    }
  });
});
