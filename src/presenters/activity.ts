import type { Activity } from '../generated/prisma/client.js';
import type { Presented } from '../schemas/responses/common.js';
import type { Activity as ActivitySchema } from '../schemas/responses/workspaces.js';

/** ActivityItem (§2.1): the stored description is exposed as `message`. */
export function presentActivity(a: Pick<Activity, 'id' | 'type' | 'description' | 'timestamp' | 'metadata'>): Presented<typeof ActivitySchema> {
  return { id: a.id, type: a.type, message: a.description, timestamp: a.timestamp.toISOString(), metadata: (a.metadata ?? {}) as Record<string, unknown> };
}
