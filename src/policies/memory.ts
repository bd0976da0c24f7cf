/** One memory: access follows the caller's role in the memory's workspace. */
import { Prisma } from '../generated/prisma/client.js';
import { roleIn } from '../data/membership.js';
import { type Role, roleFrom } from './membership.js';
import { defineResource, hasStrings } from './policy.js';
import { member } from './workspace.js';

export interface MemorySubject {
  id: string;
  workspaceId: string;
  /** The caller's role in the memory's workspace; null when not a member. */
  role: Role | null;
}

interface MemoryRow {
  id: string;
  workspaceId: string;
  role: unknown;
}

const isMemoryRow = (v: unknown): v is MemoryRow => hasStrings(v, 'id', 'workspaceId');

const memorySql = (actorId: string, memoryId: string) => Prisma.sql`
  SELECT json_build_object('id', m."id", 'workspaceId', m."workspace_id", 'role', ${roleIn(Prisma.sql`m."workspace_id"`, actorId)})
    FROM "memories" m WHERE m."id" = ${memoryId}`;

export const memory = defineResource({
  name: 'memory',
  notFound: 'Memory not found',
  load: {
    keys: ['memoryId'],
    sql: (actorId, keys) => memorySql(actorId, keys.memoryId),
    check: isMemoryRow,
    subject: (row: MemoryRow): MemorySubject => ({ id: row.id, workspaceId: row.workspaceId, role: roleFrom(row.role) }),
  },
  rules: {
    read: member('observer'),
    /** Edit and re-embed. */
    update: member('researcher'),
    delete: member('researcher'),
  },
});
