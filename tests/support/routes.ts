import type { ChimeraApp } from '../../src/app.js';
import type { RouteSpec } from '../../src/http/route.js';

/** How tests name a route: its contract id (A1, W3, …), or its operation id when it has none. */
export const contractKey = (spec: Pick<RouteSpec, 'contractId' | 'operationId'>) => spec.contractId ?? spec.operationId;

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  /** The mount path of a router (app.use('/api', router)). */
  rawPath?: string;
}

/**
 * The routes the Express app really mounted (paths relative to their router: below /api,
 * or below the root for root routes), read from its router stack rather than from the
 * route list, so a route added outside the route definitions is caught too.
 */
export function mountedRoutes(app: ChimeraApp): { method: string; path: string }[] {
  const out: { method: string; path: string }[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const path = layer.route.path === '/' && prefix ? prefix : prefix + layer.route.path;
        for (const [method, on] of Object.entries(layer.route.methods)) {
          if (on && method !== '_all') out.push({ method: method.toUpperCase(), path: path.replace(/^\/api(?=\/)/, '') });
        }
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack, typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? prefix + layer.rawPath : prefix);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return out;
}
