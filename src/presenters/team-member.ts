import type { MemberWithUser } from '../data/team-members.js';

/** TeamMember as the frontend reads it (§2.1); `user.name` may be empty. */
export function presentTeamMember(m: MemberWithUser) {
  return {
    id: m.id,
    userId: m.userId,
    workspaceId: m.workspaceId,
    role: m.role,
    status: m.status,
    joinedAt: m.joinedAt.toISOString(),
    user: { id: m.user.id, name: m.user.name, email: m.user.email },
  };
}
