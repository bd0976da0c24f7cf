/**
 * Settings (S1–S3) and account deletion (S7, D20).
 */
import type { AppDeps } from '../../app-deps.js';
import { anonymiseMemberActivities } from '../activity.js';
import type { AuthUser } from '../auth/tokens.js';

type SettingsUser = { name: string; email: string; autoStore: boolean; retentionPeriod: string };

export const presentSettings = (user: SettingsUser) => ({
  profile: { name: user.name, email: user.email },
  memoryRetention: { autoStore: user.autoStore, retentionPeriod: user.retentionPeriod },
});

/** S3: `autoStore` when given; `retentionPeriod` when non-empty (validated by the schema). */
export async function updateRetention(deps: AppDeps, user: AuthUser, input: { autoStore?: boolean; retentionPeriod?: string }) {
  const data: { autoStore?: boolean; retentionPeriod?: string } = {};
  if (input.autoStore !== undefined) data.autoStore = input.autoStore;
  if (input.retentionPeriod) data.retentionPeriod = input.retentionPeriod;
  if (Object.keys(data).length === 0) return deps.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
  return deps.prisma.user.update({ where: { id: user.id }, data });
}

/**
 * S7 in one transaction: the workspaces the user owns (the database cascades their
 * conversations, messages, memories, chunks, members, invitations, snapshots and
 * activities), then the user (cascading memberships, integrations, refresh tokens and
 * invitations sent or received). What they wrote in other people's workspaces stays, its
 * author set to null, and the activity rows there that named them speak of a former member.
 * Their access tokens die with the row (authentication finds no user).
 */
export async function deleteAccount(deps: AppDeps, userId: string): Promise<void> {
  await deps.prisma.$transaction(async (tx) => {
    await tx.workspace.deleteMany({ where: { ownerId: userId } });
    await anonymiseMemberActivities(tx, userId);
    await tx.user.delete({ where: { id: userId } });
  });
}
