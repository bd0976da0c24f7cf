import type { AppDeps } from '../app-deps.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { account, invitation } from '../policies/index.js';
import { presentInvitation } from '../presenters/invitation.js';
import { paging } from '../schemas/common.js';
import * as invitations from '../services/invitations.js';
import { MessageResult } from '../schemas/responses/common.js';
import { InvitationAccepted, InvitationList } from '../schemas/responses/workspaces.js';

/** Invitations are addressed to one user: anyone else gets 404, never the invitation. */
export function invitationRoutes(deps: AppDeps): RouteSpec[] {
  const { prisma } = deps;
  return [
    defineRoute({
      method: 'get', path: '/invitations', operationId: 'listInvitations', contractId: 'I1', response: InvitationList, tag: 'team', access: 'user', policy: account.can('read'),
      summary: "The caller's pending invitations, newest first",
      query: paging,
      handler: async ({ user, query }) => {
        const { invitations: received, total } = await invitations.listInvitations(prisma, user.id, query);
        return { invitations: received.map(presentInvitation), total };
      },
    }),
    defineRoute({
      method: 'post', path: '/invitations/:invitationId/accept', operationId: 'acceptInvitation', contractId: 'I2', response: InvitationAccepted, tag: 'team', access: 'user', policy: invitation.can('accept'),
      summary: 'Accept an invitation (idempotent): join the workspace with the invited role, if its sender may still invite',
      responses: { 404: 'Invitation not found', 410: invitations.REVOKED },
      handler: async ({ user, subject }) => ({ message: 'Invitation accepted', ...(await invitations.acceptInvitation(prisma, subject.id, user)) }),
    }),
    defineRoute({
      method: 'post', path: '/invitations/:invitationId/decline', operationId: 'declineInvitation', contractId: 'I3', response: MessageResult, tag: 'team', access: 'user', policy: invitation.can('decline'),
      summary: 'Decline (delete) an invitation',
      responses: { 404: 'Invitation not found' },
      handler: async ({ subject }) => {
        await invitations.declineInvitation(prisma, subject.id);
        return { message: 'Invitation declined' };
      },
    }),
  ];
}
