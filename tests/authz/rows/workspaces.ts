import { byRole, everyUser, type MatrixRow } from '../types.js';
import { readOnlyWorkspace } from '../fixture.js';

const read = (operationId: string, suffix: string): MatrixRow => ({
  operationId,
  prepare: async (f) => ({ path: `/workspaces/${(await readOnlyWorkspace(f)).id}${suffix}` }),
  expect: byRole('observer', 200),
  keys: { 'workspaces:read': 200 },
});

export const rows: MatrixRow[] = [
  { operationId: 'W1', prepare: () => ({ path: '/workspaces' }), expect: everyUser(200), keys: { 'workspaces:read': 200 } },
  { operationId: 'W2', prepare: () => ({ path: '/workspaces', body: { name: 'Made by the matrix' } }), expect: everyUser(201) },
  read('W3', ''),
  {
    operationId: 'W4',
    prepare: async (f) => ({
      path: `/workspaces/${(await f.freshWorkspace()).id}`,
      body: { name: 'Renamed', settings: { systemPrompt: 'Be brief.', autoRetrieve: true, retrievalTopK: 3 } },
    }),
    expect: byRole('admin', 200),
  },
  {
    operationId: 'W5',
    prepare: async (f) => ({ path: `/workspaces/${(await f.freshWorkspace()).id}` }),
    expect: byRole('owner', 200),
  },
  read('W6', '/stats'),
  read('W7', '/dashboard'),
  read('W8', '/activity'),
  read('W9', '/neural-load'),
  {
    operationId: 'W10',
    prepare: async (f) => ({ path: `/workspaces/${(await f.freshWorkspace()).id}/record-load` }),
    expect: byRole('observer', 200),
  },
];
