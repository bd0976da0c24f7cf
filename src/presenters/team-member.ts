import type { MemberWithUser } from '../data/team-members.js';
import type { Presented } from '../schemas/responses/common.js';
import type { TeamMember } from '../schemas/responses/workspaces.js';

/** TeamMember as the frontend reads it (§2.1); `user.name` may be empty. */
export function presentTeamMember(m: MemberWithUser): Presented<typeof TeamMember> {
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
