import { newId } from '../../../src/lib/ids.js';
import { byRole, everyUser, type MatrixFixture, type MatrixRow } from '../types.js';

/** A fresh memory in a fresh workspace of the fixture's owner. */
async function freshMemory(f: MatrixFixture): Promise<{ id: string; workspaceId: string }> {
  const ws = await f.freshWorkspace();
  return f.app.deps.prisma.memory.create({
    data: { id: newId('memory'), workspaceId: ws.id, title: 'Matrix', content: 'matrix memory content' },
    select: { id: true, workspaceId: true },
  });
}

/** A memory deleted by consolidation: only its history is left (two versions, the last a DELETE). */
async function deletedMemory(f: MatrixFixture): Promise<string> {
  const ws = await f.freshWorkspace();
  const memoryId = newId('memory');
  const version = (n: number, action: string) => ({
    id: newId('memver'), memoryId, workspaceId: ws.id, version: n, action, title: 'Matrix', content: 'matrix memory content', tags: [],
    provenance: { source: 'user', userId: f.sessions.owner.user.id },
  });
  await f.app.deps.prisma.memoryVersion.createMany({ data: [version(1, 'ADD'), version(2, 'DELETE')] });
  return memoryId;
}

export const rows: MatrixRow[] = [
  { operationId: 'M1', prepare: async (f) => ({ path: `/workspaces/${(await f.freshWorkspace()).id}/memories` }), expect: byRole('observer', 200), keys: { 'memories:read': 200 } },
  {
    operationId: 'M2',
    prepare: async (f) => ({ path: `/workspaces/${(await f.freshWorkspace()).id}/memories`, body: { title: 'T', content: 'C' } }),
    expect: byRole('researcher', 201),
    keys: { 'memories:write': 201 },
  },
  { operationId: 'M3', prepare: async (f) => ({ path: `/memories/${(await freshMemory(f)).id}` }), expect: byRole('observer', 200), keys: { 'memories:read': 200 } },
  { operationId: 'M4', prepare: async (f) => ({ path: `/memories/${(await freshMemory(f)).id}`, body: { title: 'New' } }), expect: byRole('researcher', 200), keys: { 'memories:write': 200 } },
  { operationId: 'M5', prepare: async (f) => ({ path: `/memories/${(await freshMemory(f)).id}` }), expect: byRole('researcher', 200), keys: { 'memories:write': 200 } },
  { operationId: 'M6', prepare: async (f) => ({ path: `/memories/${(await freshMemory(f)).id}/re-embed` }), expect: byRole('researcher', 200), keys: { 'memories:write': 200 } },
  {
    operationId: 'getMemoryHistory',
    prepare: async (f) => ({ path: `/memories/${await deletedMemory(f)}/history` }),
    expect: byRole('observer', 200),
    keys: { 'memories:read': 200 },
  },
  {
    operationId: 'restoreMemoryVersion',
    prepare: async (f) => ({ path: `/memories/${await deletedMemory(f)}/history/1/restore` }),
    expect: byRole('researcher', 200),
    keys: { 'memories:write': 200 },
  },
  // Without a workspace the search covers what the caller may read: never a refusal.
  { operationId: 'M7', prepare: () => ({ path: '/memories/search', body: { query: 'matrix' } }), expect: everyUser(200), keys: { 'memories:read': 200 } },
];
