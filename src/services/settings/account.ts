/**
 * Settings (S1–S3) and account deletion (S7, D20).
 */
import { deleteWorkspacesOwnedBy } from '../../data/workspaces.js';
import type { Db } from '../../data/sql.js';
import * as users from '../../data/users.js';
import type { PrismaClient } from '../../db/client.js';
import { notFound } from '../../lib/errors.js';
import { anonymiseMemberActivities } from '../activity.js';

/** S3: `autoStore` when given; `retentionPeriod` when non-empty (validated by the schema). The account as it then stands. */
export async function updateRetention(db: Db, userId: string, input: { autoStore?: boolean; retentionPeriod?: string }) {
  const data: { autoStore?: boolean; retentionPeriod?: string } = {};
  if (input.autoStore !== undefined) data.autoStore = input.autoStore;
  if (input.retentionPeriod) data.retentionPeriod = input.retentionPeriod;
  if (Object.keys(data).length > 0) return users.updateRetention(db, userId, data);
  const account = await users.findAccount(db, userId);
  if (!account) throw notFound('User not found'); // deleted since it authenticated
  return account;
}

/**
 * S7 in one transaction: the workspaces the user owns (the database cascades their
 * conversations, messages, memories, chunks, members, invitations, snapshots and
 * activities), then the user (cascading memberships, integrations, refresh tokens and
 * invitations sent or received). What they wrote in other people's workspaces stays, its
 * author set to null, and the activity rows there that named them speak of a former member.
 * Their access tokens die with the row (authentication finds no user).
 */
export async function deleteAccount(db: PrismaClient, userId: string): Promise<void> {
  await db.$transaction(async (tx) => {
    await deleteWorkspacesOwnedBy(tx, userId);
    await anonymiseMemberActivities(tx, userId);
    await users.deleteUser(tx, userId);
  });
}
