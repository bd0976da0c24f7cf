import { registerUser } from '../../support/factories.js';
import { everyone, everyUser, type MatrixRow } from '../types.js';

/** Settings, export and account routes act on the caller only: any authenticated user, 401 otherwise. */
export const rows: MatrixRow[] = [
  { operationId: 'S1', prepare: () => ({ path: '/settings' }), expect: everyUser(200) },
  { operationId: 'S2', prepare: () => ({ path: '/settings/profile', body: {} }), expect: everyUser(200) },
  { operationId: 'S3', prepare: () => ({ path: '/settings/memory-retention', body: {} }), expect: everyUser(200) },
  { operationId: 'S4', prepare: () => ({ path: '/settings/cleanup-info' }), expect: everyUser(200) },
  { operationId: 'S5', prepare: () => ({ path: '/settings/cleanup' }), expect: everyUser(200) },
  { operationId: 'S6', prepare: () => ({ path: '/export' }), expect: everyUser(200) },
  {
    operationId: 'S7',
    // a throwaway account per actor, so the fixture's users survive
    prepare: async (f, actor) => {
      if (actor === 'anonymous') return { path: '/account' };
      const s = await registerUser(f.app);
      return { path: '/account', headers: s.auth };
    },
    expect: everyUser(200),
  },
  { operationId: 'U2', prepare: () => ({ path: '/hooks/spec-update', body: {} }), expect: everyone(410) },
];
