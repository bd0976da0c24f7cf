/**
 * A member of a workspace's team, addressed by workspace and user id: role changes, presence
 * status, removal, and leaving (removing oneself).
 */
import { teamMemberSubject, type TeamMemberSubjectRow } from '../data/team-members.js';
import { atLeast, type Role, roleFrom } from './membership.js';
import { defineResource, hasStrings, refuse } from './policy.js';

export interface TeamMemberSubject {
  workspace: { id: string; name: string; ownerId: string };
  /** The caller's role in the workspace; null when the caller is not a member. */
  role: Role | null;
  /** The user id as the path gives it. */
  userId: string;
  /** That user's team row in the workspace, when there is one. */
  member: { userId: string } | null;
}

const isTeamMemberRow = (v: unknown): v is TeamMemberSubjectRow =>
  hasStrings(v, 'id', 'name', 'ownerId', 'userId') && (v.memberUserId === null || typeof v.memberUserId === 'string');

const MEMBER_NOT_FOUND = refuse('Team member not found', 404);

export const teamMember = defineResource({
  name: 'team-member',
  notFound: 'Workspace not found',
  load: {
    keys: ['workspaceId', 'userId'],
    sql: (actorId, keys) => teamMemberSubject(actorId, keys.workspaceId, keys.userId),
    check: isTeamMemberRow,
    subject: (row: TeamMemberSubjectRow): TeamMemberSubject => ({
      workspace: { id: row.id, name: row.name, ownerId: row.ownerId },
      role: roleFrom(row.role),
      userId: row.userId,
      member: row.memberUserId === null ? null : { userId: row.memberUserId },
    }),
  },
  rules: {
    'change-role': (_actor, s) => {
      if (s.role === null) return refuse();
      if (!atLeast(s.role, 'admin')) return refuse('Only admins can update roles');
      if (!s.member) return MEMBER_NOT_FOUND;
      return s.member.userId === s.workspace.ownerId ? refuse('Cannot change owner role', 400) : true;
    },
    /** Members set their own presence only. */
    'update-status': (actor, s) => {
      if (s.role === null) return refuse();
      if (!s.member) return MEMBER_NOT_FOUND;
      return s.member.userId === actor.id ? true : refuse('Can only update your own status');
    },
    /** Admins remove others; any member may leave (remove themselves); nobody removes the owner. */
    remove: (actor, s) => {
      if (s.role === null) return refuse();
      if (s.userId !== actor.id && !atLeast(s.role, 'admin')) return refuse('Only owner or admin can remove members');
      if (!s.member) return MEMBER_NOT_FOUND;
      return s.member.userId === s.workspace.ownerId ? refuse('Cannot remove workspace owner', 400) : true;
    },
  },
  // Team management happens in the app.
  keys: { 'change-role': null, 'update-status': null, remove: null },
  workspaceOf: (subject) => subject.workspace.id,
});
