/** One memory: access follows the caller's role in the memory's workspace. */
import { memorySubjectSql } from '../data/memories.js';
import { type Role, roleFrom } from './membership.js';
import { defineResource, hasStrings } from './policy.js';
import { member } from './workspace.js';

export interface MemorySubject {
  id: string;
  workspaceId: string;
  /** The caller's role in the memory's workspace; null when not a member. */
  role: Role | null;
}

interface LoadedMemory {
  id: string;
  workspaceId: string;
  role: unknown;
}

const isLoadedMemory = (v: unknown): v is LoadedMemory => hasStrings(v, 'id', 'workspaceId');

export const memory = defineResource({
  name: 'memory',
  notFound: 'Memory not found',
  load: {
    keys: ['memoryId'],
    sql: (actorId, keys) => memorySubjectSql(actorId, keys.memoryId),
    check: isLoadedMemory,
    subject: (row: LoadedMemory): MemorySubject => ({ id: row.id, workspaceId: row.workspaceId, role: roleFrom(row.role) }),
  },
  rules: {
    read: member('observer'),
    /** Edit and re-embed. */
    update: member('researcher'),
    delete: member('researcher'),
  },
  keys: { read: 'memories:read', update: 'memories:write', delete: 'memories:write' },
  workspaceOf: (subject) => subject.workspaceId,
});
