import type { Presented } from '../schemas/responses/common.js';
import type { Activity } from '../schemas/responses/workspaces.js';

/** ActivityItem (§2.1): the stored description is exposed as `message`. */
export function presentActivity(a: { id: string; type: string; description: string; timestamp: Date; metadata: unknown }): Presented<typeof Activity> {
  return { id: a.id, type: a.type, message: a.description, timestamp: a.timestamp.toISOString(), metadata: (a.metadata ?? {}) as Record<string, unknown> };
}
