import type { AppDeps } from '../app-deps.js';
import { AppError } from '../lib/errors.js';
import { defineRoute, type RouteSpec } from '../http/route.js';

/** U2: the old server's spec-writing developer hook. It wrote to the server's disk, so it is gone for good. */
export function hookRoutes(_deps: AppDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'post', path: '/hooks/spec-update', operationId: 'specUpdateHook', contractId: 'U2', tag: 'legacy', access: 'public',
      response: { description: 'Never: the hook was removed (every call answers 410)', content: {} },
      summary: 'Removed developer hook of the original server; always 410',
      responses: { 410: 'This endpoint has been removed' },
      handler: () => {
        throw new AppError(410, 'This endpoint has been removed');
      },
    }),
  ];
}
