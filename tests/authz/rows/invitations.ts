import { newId } from '../../../src/lib/ids.js';
import { everyUser, type MatrixFixture, type MatrixRow } from '../types.js';

/** A pending invitation addressed to the stranger: only they may answer it; others get 404. */
async function invitationForStranger(f: MatrixFixture) {
  const ws = await f.freshWorkspace();
  return f.app.deps.prisma.workspaceInvitation.create({
    data: { id: newId('inv'), workspaceId: ws.id, inviterId: f.sessions.owner.user.id, inviteeId: f.sessions.stranger.user.id },
    select: { id: true },
  });
}

const inviteeOnly = { anonymous: 401, stranger: 200, observer: 404, researcher: 404, admin: 404, owner: 404 };

export const rows: MatrixRow[] = [
  { operationId: 'I1', prepare: () => ({ path: '/invitations' }), expect: everyUser(200) },
  {
    operationId: 'I2',
    prepare: async (f) => ({ path: `/invitations/${(await invitationForStranger(f)).id}/accept` }),
    expect: inviteeOnly,
  },
  {
    operationId: 'I3',
    prepare: async (f) => ({ path: `/invitations/${(await invitationForStranger(f)).id}/decline` }),
    expect: inviteeOnly,
  },
];
