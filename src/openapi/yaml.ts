/** Renders the OpenAPI document as YAML without a running server or database. */
import type { AppDeps } from '../app-deps.js';
import { packageVersion } from '../bootstrap.js';
import { loadConfig } from '../config/env.js';
import { allRoutes } from '../routes/index.js';
import { buildOpenApiDocument, documentYaml } from './document.js';

/** The document as the routes declare it, with the default server (http://127.0.0.1:8000). */
export function openApiDocument() {
  // Route definitions only read configuration while being declared; no database is touched.
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32), ENCRYPTION_KEY: Buffer.alloc(32).toString('base64') }, packageVersion);
  const deps = { config, rateLimitStore: { create: () => undefined, close: async () => {} } } as unknown as AppDeps;
  return buildOpenApiDocument(allRoutes(deps), { version: packageVersion });
}

export async function renderOpenApiYaml(): Promise<string> {
  return `# Generated from the route definitions by \`npm run openapi\`; do not edit by hand.\n${documentYaml(openApiDocument())}`;
}
