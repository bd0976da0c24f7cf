import { z } from 'zod';
import { RETENTION_PERIODS } from '../../services/settings/retention.js';
import { jsonObject, timestamp } from './common.js';

export const Settings = z
  .object({
    profile: z.object({ name: z.string(), email: z.string() }),
    memoryRetention: z.object({ autoStore: z.boolean(), retentionPeriod: z.enum(RETENTION_PERIODS) }),
  })
  .meta({ id: 'Settings', examples: [{ profile: { name: 'Ada Lovelace', email: 'ada@example.com' }, memoryRetention: { autoStore: true, retentionPeriod: 'indefinite-84' } }] });

const remaining = () => z.int().nullable();

export const CleanupInfo = z
  .object({
    cleanup_date: timestamp().nullable(),
    days_remaining: remaining(),
    hours_remaining: remaining(),
    minutes_remaining: remaining(),
    total_seconds_remaining: z.int().optional().meta({ description: 'Absent when the period is indefinite' }),
    is_indefinite: z.boolean(),
    retention_period: z.enum(RETENTION_PERIODS),
  })
  .meta({
    id: 'CleanupInfo',
    examples: [{
      cleanup_date: '2025-12-15T06:00:00.000Z', days_remaining: 6, hours_remaining: 23, minutes_remaining: 16, total_seconds_remaining: 602_160,
      is_indefinite: false, retention_period: '7-days',
    }],
  });

export const CleanupCounts = z
  .object({ workspaces_deleted: z.int(), conversations_deleted: z.int(), memories_deleted: z.int(), messages_deleted: z.int(), cleanup_time: timestamp() })
  .meta({
    id: 'CleanupCounts',
    examples: [{ workspaces_deleted: 0, conversations_deleted: 2, memories_deleted: 5, messages_deleted: 14, cleanup_time: '2025-12-08T06:43:35.123Z' }],
  });

const nullableTimestamp = () => timestamp().nullable();

/** The raw export file (GET /export), not enveloped. */
export const ExportDocument = z
  .object({
    user: z.object({ id: z.string(), name: z.string(), email: z.string(), createdAt: timestamp() }),
    settings: z.object({
      profile: z.object({ name: z.string(), email: z.string() }),
      memoryRetention: z.object({ autoStore: z.boolean(), retentionPeriod: z.string() }),
    }),
    workspaces: z.array(z.object({
      id: z.string(), name: z.string(), description: z.string().nullable(), ownerId: z.string(), isOwner: z.boolean(), createdAt: timestamp(), updatedAt: timestamp(),
      conversations: z.array(z.object({
        id: z.string(), title: z.string(), modelId: z.string(), status: z.string(), createdAt: timestamp(), updatedAt: timestamp(),
        messages: z.array(z.object({ id: z.string(), role: z.string(), content: z.string(), isPinned: z.boolean(), timestamp: timestamp(), metadata: jsonObject() })),
      })),
      memories: z.array(z.object({
        id: z.string(), title: z.string(), content: z.string(), snippet: z.string(), tags: z.array(z.string()), metadata: jsonObject(),
        version: z.int(), createdAt: timestamp(), updatedAt: timestamp(),
      })),
    })),
    integrations: z.array(z.object({ id: z.string(), provider: z.string(), status: z.string(), lastTested: nullableTimestamp(), createdAt: timestamp() })),
  })
  .meta({ id: 'ExportDocument', description: 'Every workspace the caller can read, with conversations, messages and memories, and their integrations (keys omitted)' });
