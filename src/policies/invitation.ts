/** Invitations are addressed to one user: anyone else gets 404, never the invitation (§1.10). */
import { Prisma } from '../generated/prisma/client.js';
import { isPlainObject } from '../http/validation.js';
import { defineResource, refuse, type Rule } from './policy.js';

export interface InvitationSubject {
  id: string;
  inviteeId: string;
}

const isInvitationRow = (v: unknown): v is InvitationSubject => isPlainObject(v) && typeof v.id === 'string' && typeof v.inviteeId === 'string';

const NOT_FOUND = 'Invitation not found';

const inviteeOnly: Rule<InvitationSubject> = (actor, invitation) => (invitation.inviteeId === actor.id ? true : refuse(NOT_FOUND, 404));

export const invitation = defineResource({
  name: 'invitation',
  notFound: NOT_FOUND,
  load: {
    name: 'invitation',
    keys: ['invitationId'],
    sql: (_actorId, keys) =>
      Prisma.sql`SELECT json_build_object('id', v."id", 'inviteeId', v."invitee_id") FROM "workspace_invitations" v WHERE v."id" = ${keys.invitationId}`,
    check: isInvitationRow,
    subject: (row: InvitationSubject) => row,
  },
  rules: {
    accept: inviteeOnly,
    decline: inviteeOnly,
  },
});
