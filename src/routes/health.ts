import type { AppDeps } from '../app-deps.js';
import { failure, success } from '../http/envelope.js';
import { defineRoute, type RouteSpec } from '../http/route.js';

export function healthRoutes(_deps: AppDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'get', path: '/health', operationId: 'U1', tag: 'utility', access: 'public', raw: true,
      summary: 'Service health: database reachability and latency, version, uptime, components',
      responses: { 503: 'Database unreachable (same body, ok=false)' },
      handler: async ({ deps, res }) => {
        const { healthy, body } = await deps.health.report();
        res.setHeader('Cache-Control', 'no-store');
        if (healthy) res.status(200).json(success(body));
        else res.status(503).json(failure('Database unavailable', body));
      },
    }),
  ];
}
