import type { AppDeps } from '../app-deps.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { account, invitation } from '../policies/index.js';
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
      handler: ({ user, query }) => invitations.listInvitations(prisma, user.id, query),
    }),
    defineRoute({
      method: 'post', path: '/invitations/:invitationId/accept', operationId: 'acceptInvitation', contractId: 'I2', response: InvitationAccepted, tag: 'team', access: 'user', policy: invitation.can('accept'),
      summary: 'Accept an invitation (idempotent): join the workspace with the invited role, if its sender may still invite',
      responses: { 404: 'Invitation not found', 410: invitations.REVOKED },
      handler: ({ user, subject }) => invitations.acceptInvitation(prisma, subject.id, user),
    }),
    defineRoute({
      method: 'post', path: '/invitations/:invitationId/decline', operationId: 'declineInvitation', contractId: 'I3', response: MessageResult, tag: 'team', access: 'user', policy: invitation.can('decline'),
      summary: 'Decline (delete) an invitation',
      responses: { 404: 'Invitation not found' },
      handler: ({ user, subject }) => invitations.declineInvitation(prisma, subject.id, user.id),
    }),
  ];
}
