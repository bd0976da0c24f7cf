import type { AppDeps } from '../app-deps.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { paging } from '../schemas/common.js';
import * as invitations from '../services/invitations.js';

/** Invitations are addressed to one user: anyone else gets 404, never the invitation. */
export function invitationRoutes(deps: AppDeps): RouteSpec[] {
  const { prisma } = deps;
  return [
    defineRoute({
      method: 'get', path: '/invitations', operationId: 'I1', tag: 'team', access: 'user',
      summary: "The caller's pending invitations, newest first",
      query: paging,
      handler: ({ user, query }) => invitations.listInvitations(prisma, user.id, query),
    }),
    defineRoute({
      method: 'post', path: '/invitations/:invitationId/accept', operationId: 'I2', tag: 'team', access: 'user',
      summary: 'Accept an invitation (idempotent): join the workspace with the invited role, if its sender may still invite',
      responses: { 404: 'Invitation not found', 410: invitations.REVOKED },
      handler: ({ user, params }) => invitations.acceptInvitation(prisma, params.invitationId!, user),
    }),
    defineRoute({
      method: 'post', path: '/invitations/:invitationId/decline', operationId: 'I3', tag: 'team', access: 'user',
      summary: 'Decline (delete) an invitation',
      responses: { 404: 'Invitation not found' },
      handler: ({ user, params }) => invitations.declineInvitation(prisma, params.invitationId!, user.id),
    }),
  ];
}
