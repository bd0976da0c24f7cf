import type { AppDeps } from '../app-deps.js';
import { failure, sendEnvelope, success } from '../http/envelope.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { Health } from '../schemas/responses/utility.js';

export function healthRoutes(_deps: AppDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'get', path: '/health', operationId: 'getHealth', contractId: 'U1', tag: 'utility', access: 'public', raw: true, response: Health,
      summary: 'Service health: database reachability and latency, version, uptime, components',
      description:
        'data: status (healthy | unhealthy), timestamp, version, uptimeSeconds, database ("connected" or "error: …"), databaseLatencyMs, storage (pglite | postgres), ' +
        'embeddings {status, model, dimensions, reason, backlog} (backlog: memories waiting to be embedded, counted at most 10 s ago, usually within the last second), and eventLoop {status, windowSeconds, delayMs {mean, p50, p99, max}, utilization}: ' +
        "this process's event-loop delay (how late timers fire) and busy share over the last complete 10-second window; " +
        'vectorIndex {status, backend (memory | pgvector), cachedMb, cachedWorkspaces, budgetMb}; ' +
        'memory {status, rssMb, heapMb, vectorsMb, buffersMb, embeddingModel (loaded | not loaded), database (in process | separate server)}.',
      responses: { 503: { description: 'Database unreachable: the same report, ok=false', data: Health } },
      handler: async ({ deps, res }) => {
        const { healthy, body } = await deps.health.report();
        res.setHeader('Cache-Control', 'no-store');
        sendEnvelope(res, healthy ? 200 : 503, healthy ? success(body) : failure('Database unavailable', body));
      },
    }),
  ];
}
