/**
 * A memory's history: its versions outlive a deletion by consolidation, so the history is
 * its own subject, loaded from the memory or, once it is gone, from its last version. Access
 * follows the caller's role in the memory's workspace.
 */
import { memoryHistorySubjectSql } from '../data/memory-versions.js';
import { type Role, roleFrom } from './membership.js';
import { defineResource, hasStrings } from './policy.js';
import { member } from './workspace.js';

export interface MemoryHistorySubject {
  id: string;
  workspaceId: string;
  /** The memory itself is gone; its history remains (restorable). */
  deleted: boolean;
  /** The caller's role in the memory's workspace; null when not a member. */
  role: Role | null;
}

interface LoadedHistory {
  id: string;
  workspaceId: string;
  deleted: unknown;
  role: unknown;
}

const isLoadedHistory = (v: unknown): v is LoadedHistory => hasStrings(v, 'id', 'workspaceId');

export const memoryHistory = defineResource({
  name: 'memory-history',
  notFound: 'Memory not found',
  load: {
    keys: ['memoryId'],
    sql: (actorId, keys) => memoryHistorySubjectSql(actorId, keys.memoryId),
    check: isLoadedHistory,
    subject: (row: LoadedHistory): MemoryHistorySubject => ({ id: row.id, workspaceId: row.workspaceId, deleted: row.deleted === true, role: roleFrom(row.role) }),
  },
  rules: {
    read: member('observer'),
    /** Restore a version: the roles that may edit memories. */
    restore: member('researcher'),
  },
  keys: { read: 'memories:read', restore: 'memories:write' },
  workspaceOf: (subject) => subject.workspaceId,
});
