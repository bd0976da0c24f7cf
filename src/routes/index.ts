/**
 * Every operation of the API, in registration order. Order matters where paths overlap:
 * a literal segment (e.g. /memories/search) must come before a parameter (/memories/:id).
 */
import type { AppDeps } from '../app-deps.js';
import type { RouteSpec } from '../http/route.js';
import { authRoutes } from './auth.js';
import { docsRoutes } from './docs.js';
import { healthRoutes } from './health.js';
import { mcpRoutes } from './mcp.js';
import { memoryRoutes } from './memories.js';

export function allRoutes(deps: AppDeps): RouteSpec[] {
  const routes: RouteSpec[] = [
    ...authRoutes(deps),
    ...healthRoutes(deps),
    ...memoryRoutes(deps),
    ...mcpRoutes(deps),
  ];
  routes.push(...docsRoutes(deps, () => routes));
  return routes;
}
