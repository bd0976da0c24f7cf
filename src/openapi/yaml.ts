/** Renders the OpenAPI document as YAML without a running server or database. */
import type { AppDeps } from '../app-deps.js';
import { packageVersion } from '../bootstrap.js';
import { loadConfig } from '../config/env.js';
import { allRoutes } from '../routes/index.js';
import { buildOpenApiDocument, documentYaml } from './document.js';

/** The routes with the default configuration. Declaring them only reads configuration; no database is touched. */
export function documentRoutes() {
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32), ENCRYPTION_KEY: Buffer.alloc(32).toString('base64') }, packageVersion);
  const deps = { config, rateLimitStore: { create: () => undefined, close: async () => {} } } as unknown as AppDeps;
  return allRoutes(deps);
}

/** The document as the routes declare it, with the default server (http://127.0.0.1:8000). */
export const openApiDocument = () => buildOpenApiDocument(documentRoutes(), { version: packageVersion });

export async function renderOpenApiYaml(): Promise<string> {
  return `# Generated from the route definitions by \`npm run openapi\`; do not edit by hand.\n${await documentYaml(openApiDocument())}`;
}
