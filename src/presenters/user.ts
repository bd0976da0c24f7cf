import type { User } from '../generated/prisma/client.js';

/** User as the frontend reads it: {id, name, email, avatar, createdAt}. */
export function presentUser(user: Pick<User, 'id' | 'name' | 'email' | 'avatar' | 'createdAt'>) {
  return { id: user.id, name: user.name, email: user.email, avatar: user.avatar, createdAt: user.createdAt.toISOString() };
}

/** Settings (S1–S3, and the export's `settings`): the profile and the memory-retention choice. */
export function presentSettings(user: Pick<User, 'name' | 'email' | 'autoStore' | 'retentionPeriod'>) {
  return {
    profile: { name: user.name, email: user.email },
    memoryRetention: { autoStore: user.autoStore, retentionPeriod: user.retentionPeriod },
  };
}
