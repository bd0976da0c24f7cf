import type { Activity } from '../generated/prisma/client.js';

/** ActivityItem (§2.1): the stored description is exposed as `message`. */
export function presentActivity(a: Pick<Activity, 'id' | 'type' | 'description' | 'timestamp' | 'metadata'>) {
  return { id: a.id, type: a.type, message: a.description, timestamp: a.timestamp.toISOString(), metadata: a.metadata ?? {} };
}
