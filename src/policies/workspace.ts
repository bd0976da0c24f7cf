/** Workspaces, and what members may do in one: its team, conversations and memories as a whole. */
import { workspaceSubject, type WorkspaceSubjectRow } from '../data/workspaces.js';
import { atLeast, type Role, roleFrom } from './membership.js';
import { defineResource, hasStrings, refuse, type Rule } from './policy.js';

export interface WorkspaceSubject {
  id: string;
  name: string;
  ownerId: string;
  /** The caller's role; null when the caller is not a member. */
  role: Role | null;
}

const isWorkspaceRow = (v: unknown): v is WorkspaceSubjectRow => hasStrings(v, 'id', 'name', 'ownerId');

/**
 * A rule that needs `least` role or above: non-members get `Access denied`, members below
 * it `message` (e.g. "Only owner can delete workspace").
 */
export const member =
  (least: Role, message = 'Access denied'): Rule<{ role: Role | null }> =>
  (_actor, { role }) =>
    role === null ? refuse() : atLeast(role, least) ? true : refuse(message);

/** The least role that may invite; an invitation stands only while its sender holds it. */
export const INVITING_ROLE: Role = 'admin';

export const workspace = defineResource({
  name: 'workspace',
  notFound: 'Workspace not found',
  load: {
    keys: ['workspaceId'],
    sql: (actorId, keys) => workspaceSubject(actorId, keys.workspaceId),
    check: isWorkspaceRow,
    subject: (row: WorkspaceSubjectRow): WorkspaceSubject => ({ id: row.id, name: row.name, ownerId: row.ownerId, role: roleFrom(row.role) }),
  },
  rules: {
    read: member('observer'),
    update: member('admin', 'Only owner or admin can update workspace'),
    delete: member('owner', 'Only owner can delete workspace'),
    'record-load': member('observer'),
    'read-team': member('observer'),
    invite: member(INVITING_ROLE, 'Only admins can invite members'),
    'read-conversations': member('observer'),
    'create-conversation': member('researcher'),
    'read-memories': member('observer'),
    'write-memories': member('researcher'),
    'import-memories': member('researcher'),
  },
  keys: {
    read: 'workspaces:read',
    update: null,
    delete: null,
    'record-load': null,
    'read-team': 'workspaces:read',
    invite: null,
    'read-conversations': 'conversations:read',
    'create-conversation': 'chat',
    'read-memories': 'memories:read',
    'write-memories': 'memories:write',
    'import-memories': 'memories:write',
  },
  workspaceOf: (subject) => subject.id,
});
