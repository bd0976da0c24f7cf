import type { User } from '../generated/prisma/client.js';

/** Settings (S1–S3, and the export's `settings`): the profile and the memory-retention choice. */
export function presentSettings(user: Pick<User, 'name' | 'email' | 'autoStore' | 'retentionPeriod'>) {
  return {
    profile: { name: user.name, email: user.email },
    memoryRetention: { autoStore: user.autoStore, retentionPeriod: user.retentionPeriod },
  };
}

/** S4 (§5.14, snake_case): the countdown to the next cleanup; an indefinite period has none (and no total_seconds_remaining). */
export function presentCleanupInfo(retentionPeriod: string, next: { at: Date; secondsRemaining: number } | null) {
  if (next === null) {
    return { cleanup_date: null, days_remaining: null, hours_remaining: null, minutes_remaining: null, is_indefinite: true, retention_period: retentionPeriod };
  }
  const seconds = next.secondsRemaining;
  return {
    cleanup_date: next.at.toISOString(),
    days_remaining: Math.floor(seconds / 86_400),
    hours_remaining: Math.floor((seconds % 86_400) / 3600),
    minutes_remaining: Math.floor((seconds % 3600) / 60),
    total_seconds_remaining: seconds,
    is_indefinite: false,
    retention_period: retentionPeriod,
  };
}

/** S5 (snake_case): what a cleanup deleted and when; it never deletes workspaces. */
export function presentCleanup(counts: { conversations: number; memories: number; messages: number }, at: Date) {
  return {
    workspaces_deleted: 0,
    conversations_deleted: counts.conversations,
    memories_deleted: counts.memories,
    messages_deleted: counts.messages,
    cleanup_time: at.toISOString(),
  };
}
