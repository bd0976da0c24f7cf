/** Provider integrations belong to one user; anyone else's id is answered as if it did not exist (§1.10). */
import { Prisma } from '../generated/prisma/client.js';
import { isPlainObject } from '../http/validation.js';
import { defineResource, refuse, type Rule } from './policy.js';

export interface IntegrationSubject {
  id: string;
  userId: string;
}

const isIntegrationRow = (v: unknown): v is IntegrationSubject => isPlainObject(v) && typeof v.id === 'string' && typeof v.userId === 'string';

const NOT_FOUND = 'Integration not found';

const ownerOnly: Rule<IntegrationSubject> = (actor, integration) => (integration.userId === actor.id ? true : refuse(NOT_FOUND, 404));

export const integration = defineResource({
  name: 'integration',
  notFound: NOT_FOUND,
  load: {
    name: 'integration',
    keys: ['integrationId'],
    sql: (_actorId, keys) =>
      Prisma.sql`SELECT json_build_object('id', i."id", 'userId', i."user_id") FROM "integrations" i WHERE i."id" = ${keys.integrationId}`,
    check: isIntegrationRow,
    subject: (row: IntegrationSubject) => row,
  },
  rules: {
    read: ownerOnly,
    /** Replace the key or model, re-test the key. */
    update: ownerOnly,
    delete: ownerOnly,
  },
});
