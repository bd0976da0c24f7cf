/** Invitations are addressed to one user: anyone else gets 404, never the invitation (§1.10). */
import { invitationSubject } from '../data/invitations.js';
import { atLeast, type Role } from './membership.js';
import { personalResource } from './policy.js';
import { INVITING_ROLE } from './workspace.js';

export const invitation = personalResource({
  name: 'invitation',
  notFound: 'Invitation not found',
  key: 'invitationId',
  sql: invitationSubject,
  actions: ['accept', 'decline'],
});

/**
 * An invitation carries its sender's authority: it stands only while the sender may still
 * invite to its workspace. Removal, leaving or a demotion below the inviting role revokes it.
 */
export const invitationStands = (senderRole: Role | null): boolean => atLeast(senderRole, INVITING_ROLE);
