import type { ReceivedInvitation } from '../data/invitations.js';
import type { WorkspaceInvitation } from '../generated/prisma/client.js';
import type { Presented } from '../schemas/responses/common.js';
import type { Invitation, SentInvitation } from '../schemas/responses/workspaces.js';

/** Invitation list item (§2.1), plus the role the invitee will get (D7). */
export function presentInvitation(inv: ReceivedInvitation): Presented<typeof Invitation> {
  return {
    id: inv.id,
    workspaceId: inv.workspaceId,
    workspaceName: inv.workspace.name,
    inviterName: inv.inviter.name,
    inviterEmail: inv.inviter.email,
    role: inv.role,
    status: inv.status,
    createdAt: inv.createdAt.toISOString(),
  };
}

/** T2's 201 payload. */
export function presentSentInvitation(
  inv: Pick<WorkspaceInvitation, 'id' | 'workspaceId' | 'role' | 'status' | 'createdAt'>,
  workspaceName: string,
  inviteeEmail: string,
): Presented<typeof SentInvitation> {
  return {
    id: inv.id,
    workspaceId: inv.workspaceId,
    workspaceName,
    inviteeEmail,
    role: inv.role,
    status: inv.status,
    createdAt: inv.createdAt.toISOString(),
    message: 'Invitation sent successfully',
  };
}
