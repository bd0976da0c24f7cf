import type { AppDeps } from '../app-deps.js';
import { sendVersioned } from '../http/envelope.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { teamMember, workspace } from '../policies/index.js';
import { presentSentInvitation } from '../presenters/invitation.js';
import { presentTeamMember } from '../presenters/team-member.js';
import { paging } from '../schemas/common.js';
import { inviteBody, roleBody, statusBody } from '../schemas/team.js';
import * as team from '../services/team.js';
import { pollEtag, teamVersion } from '../services/poll-etags.js';
import { MessageResult } from '../schemas/responses/common.js';
import { SentInvitation, TeamList, TeamMember } from '../schemas/responses/workspaces.js';

export function teamRoutes(deps: AppDeps): RouteSpec[] {
  const { prisma } = deps;
  return [
    defineRoute({
      method: 'get', path: '/workspaces/:workspaceId/team', operationId: 'listTeamMembers', contractId: 'T1', response: TeamList, tag: 'team', access: 'user', policy: workspace.can('read-team'),
      summary: 'Members of a workspace (the owner included), in joining order',
      query: paging,
      responses: { 403: 'Access denied', 404: 'Workspace not found' },
      // Polled (§1.13) on the Team page: the ETag derives from the team's version.
      raw: true,
      preload: teamVersion,
      handler: async ({ subject, query, res, preloaded }) =>
        sendVersioned(res, pollEtag('team', subject.id, preloaded, query), async () => {
          const { members, total } = await team.listTeam(prisma, subject.id, query);
          return { members: members.map(presentTeamMember), total };
        }),
    }),
    defineRoute({
      method: 'post', path: '/workspaces/:workspaceId/team/invite', operationId: 'inviteTeamMember', contractId: 'T2', response: SentInvitation, tag: 'team', access: 'user', policy: workspace.can('invite'), status: 201,
      summary: 'Invite a registered user by email, with an optional role (admin or higher)',
      body: inviteBody,
      responses: {
        400: 'Email is required · Cannot invite yourself · User is already a member of this workspace · Invitation already sent to this user',
        403: 'Access denied · Only admins can invite members',
        404: 'User not found with this email · Workspace not found',
      },
      handler: async ({ user, subject, body }) => {
        const { invitation, inviteeEmail } = await team.invite(prisma, subject.id, user.id, body);
        return presentSentInvitation(invitation, subject.name, inviteeEmail);
      },
    }),
    defineRoute({
      method: 'put', path: '/workspaces/:workspaceId/team/:userId/role', operationId: 'updateMemberRole', contractId: 'T3', response: TeamMember, tag: 'team', access: 'user', policy: teamMember.can('change-role'),
      summary: "Change a member's role (admin or higher; never the owner's, never to owner); a demotion below admin revokes their pending invitations",
      body: roleBody, bodyErrors: 'fields',
      responses: { 400: 'Field errors · Cannot change owner role', 403: 'Only admins can update roles', 404: 'Team member not found' },
      handler: async ({ subject, params, body }) => presentTeamMember(await team.changeRole(prisma, subject.workspace.id, params.userId, body.role)),
    }),
    defineRoute({
      method: 'put', path: '/workspaces/:workspaceId/team/:userId/status', operationId: 'updateMemberStatus', contractId: 'T4', response: TeamMember, tag: 'team', access: 'user', policy: teamMember.can('update-status'),
      summary: 'Set your own presence status in a workspace',
      body: statusBody, bodyErrors: 'fields',
      responses: { 400: 'Field errors', 403: 'Access denied · Can only update your own status', 404: 'Team member not found' },
      handler: async ({ subject, params, body }) => presentTeamMember(await team.updateStatus(prisma, subject.workspace.id, params.userId, body.status)),
    }),
    defineRoute({
      method: 'delete', path: '/workspaces/:workspaceId/team/:userId', operationId: 'removeTeamMember', contractId: 'T5', response: MessageResult, tag: 'team', access: 'user', policy: teamMember.can('remove'),
      summary: 'Remove a member (admin or higher) or leave the workspace (yourself); never the owner. Their pending invitations to it are revoked',
      responses: { 400: 'Cannot remove workspace owner', 403: 'Only owner or admin can remove members', 404: 'Team member not found' },
      handler: async ({ subject, params }) => {
        await team.removeMember(prisma, subject.workspace.id, params.userId);
        return { message: 'Team member removed successfully' };
      },
    }),
  ];
}
