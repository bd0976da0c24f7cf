import { newId } from '../../../src/lib/ids.js';
import { extraUser, readOnlyWorkspace } from '../fixture.js';
import { byRole, type MatrixFixture, type MatrixRow } from '../types.js';

/** A fresh workspace with one more researcher, the target of role changes and removals. */
async function workspaceWithTarget(f: MatrixFixture) {
  const ws = await f.freshWorkspace();
  const target = await extraUser(f, 'member');
  await f.app.deps.prisma.teamMember.create({ data: { id: newId('tm'), workspaceId: ws.id, userId: target.id, role: 'researcher' } });
  return { ws, target };
}

export const rows: MatrixRow[] = [
  {
    operationId: 'T1',
    prepare: async (f) => ({ path: `/workspaces/${(await readOnlyWorkspace(f)).id}/team` }),
    expect: byRole('observer', 200),
    keys: { 'workspaces:read': 200 },
  },
  {
    operationId: 'T2',
    prepare: async (f) => {
      const ws = await f.freshWorkspace();
      const invitee = await extraUser(f, 'invitee');
      return { path: `/workspaces/${ws.id}/team/invite`, body: { email: invitee.email } };
    },
    expect: byRole('admin', 201),
  },
  {
    operationId: 'T3',
    prepare: async (f) => {
      const { ws, target } = await workspaceWithTarget(f);
      return { path: `/workspaces/${ws.id}/team/${target.id}/role`, body: { role: 'observer' } };
    },
    expect: byRole('admin', 200),
  },
  {
    operationId: 'T4',
    // every member may set their own status; a stranger has no row to set
    prepare: async (f, actor) => {
      const ws = await f.freshWorkspace();
      const self = actor === 'anonymous' ? f.sessions.owner : f.sessions[actor];
      return { path: `/workspaces/${ws.id}/team/${self.user.id}/status`, body: { status: 'away' } };
    },
    expect: byRole('observer', 200),
  },
  {
    operationId: 'T5',
    prepare: async (f) => {
      const { ws, target } = await workspaceWithTarget(f);
      return { path: `/workspaces/${ws.id}/team/${target.id}` };
    },
    expect: byRole('admin', 200),
  },
  {
    operationId: 'T5',
    // leaving: every member may remove themselves; the owner may not leave their workspace
    prepare: async (f, actor) => {
      const ws = await f.freshWorkspace();
      const self = actor === 'anonymous' ? f.sessions.owner : f.sessions[actor];
      return { path: `/workspaces/${ws.id}/team/${self.user.id}` };
    },
    expect: { ...byRole('observer', 200), owner: 400 },
  },
];
