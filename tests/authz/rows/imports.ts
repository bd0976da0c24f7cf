import { byRole, type MatrixRow } from '../types.js';

/** Imports need `memory:import` (researcher and above); a refused URL still proves the caller got past the policy. */
export const rows: MatrixRow[] = [
  {
    operationId: 'M8',
    prepare: async (f) => ({ path: `/workspaces/${(await f.freshWorkspace()).id}/memories/import-url`, body: { url: 'file:///etc/passwd' } }),
    expect: byRole('researcher', 400),
    keys: { 'memories:write': 400 },
  },
  {
    operationId: 'M9',
    prepare: async (f) => ({
      path: `/workspaces/${(await f.freshWorkspace()).id}/memories/import-file`,
      attach: ['file', Buffer.from('Matrix import content, long enough to keep.'), 'matrix.txt'],
    }),
    expect: byRole('researcher', 201),
    keys: { 'memories:write': 201 },
  },
];
