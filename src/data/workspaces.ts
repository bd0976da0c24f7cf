/** Workspaces: statements on the `workspaces` table. */
import { Prisma, type Workspace } from '../generated/prisma/client.js';
import { memberWorkspaceIds } from '../policies/membership.js';
import type { Db } from './sql.js';

/** The most recently updated workspace the user belongs to, or null when they belong to none. */
export async function latestWorkspaceIdOf(db: Db, userId: string): Promise<string | null> {
  // Raw: the membership rule is an SQL fragment, shared with the policies.
  const rows = await db.$queryRaw<Pick<Workspace, 'id'>[]>(
    Prisma.sql`SELECT w."id" FROM "workspaces" w WHERE w."id" IN (${memberWorkspaceIds(userId)}) ORDER BY w."updated_at" DESC, w."id" LIMIT 1`,
  );
  return rows[0]?.id ?? null;
}
