import type { Presented } from '../schemas/responses/common.js';
import type { TeamMember } from '../schemas/responses/workspaces.js';

/** TeamMember as the frontend reads it (§2.1); `user.name` may be empty. */
export interface TeamMemberRow {
  id: string;
  userId: string;
  workspaceId: string;
  role: string;
  status: string;
  joinedAt: Date;
  user: { id: string; name: string; email: string };
}

/** Prisma include that loads what presentTeamMember needs. */
export const teamMemberInclude = { user: { select: { id: true, name: true, email: true } } } as const;

export function presentTeamMember(m: TeamMemberRow): Presented<typeof TeamMember> {
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
