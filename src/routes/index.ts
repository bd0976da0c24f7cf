/**
 * Every operation of the API, in registration order. Order matters where paths overlap:
 * a literal segment (e.g. /memories/search) must come before a parameter (/memories/:id).
 */
import type { AppDeps } from '../app-deps.js';
import type { RouteSpec } from '../http/route.js';
import { authRoutes } from './auth.js';
import { conversationRoutes } from './conversations.js';
import { docsRoutes } from './docs.js';
import { healthRoutes } from './health.js';
import { integrationRoutes } from './integrations.js';
import { hookRoutes } from './hooks.js';
import { importRoutes } from './imports.js';
import { invitationRoutes } from './invitations.js';
import { settingsRoutes } from './settings.js';
import { teamRoutes } from './team.js';
import { workspaceRoutes } from './workspaces.js';
import { mcpRoutes } from './mcp.js';
import { memoryRoutes } from './memories.js';

export function allRoutes(deps: AppDeps): RouteSpec[] {
  const routes: RouteSpec[] = [
    ...authRoutes(deps),
    ...healthRoutes(deps),
    ...workspaceRoutes(deps),
    ...teamRoutes(deps),
    ...invitationRoutes(deps),
    ...conversationRoutes(deps),
    ...integrationRoutes(deps),
    ...importRoutes(deps),
    ...settingsRoutes(deps),
    ...hookRoutes(deps),
    ...memoryRoutes(deps),
    ...mcpRoutes(deps),
  ];
  routes.push(...docsRoutes(deps, () => routes));
  return routes;
}
