/** Provider integrations belong to one user; anyone else's id is answered as if it did not exist (§1.10). */
import { Prisma } from '../generated/prisma/client.js';
import { personalResource } from './policy.js';

export const integration = personalResource({
  name: 'integration',
  notFound: 'Integration not found',
  key: 'integrationId',
  sql: (id) => Prisma.sql`SELECT json_build_object('id', i."id", 'ownerId', i."user_id") FROM "integrations" i WHERE i."id" = ${id}`,
  // update: replace the key or model, re-test the key
  actions: ['read', 'update', 'delete'],
});
