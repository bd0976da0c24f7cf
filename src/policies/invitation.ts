/** Invitations are addressed to one user: anyone else gets 404, never the invitation (§1.10). */
import { Prisma } from '../generated/prisma/client.js';
import { personalResource } from './policy.js';

export const invitation = personalResource({
  name: 'invitation',
  notFound: 'Invitation not found',
  key: 'invitationId',
  sql: (id) => Prisma.sql`SELECT json_build_object('id', v."id", 'ownerId', v."invitee_id") FROM "workspace_invitations" v WHERE v."id" = ${id}`,
  actions: ['accept', 'decline'],
});
