/** Provider integrations belong to one user; anyone else's id is answered as if it did not exist (§1.10). */
import { integrationSubject } from '../data/integrations.js';
import { personalResource } from './policy.js';

export const integration = personalResource({
  name: 'integration',
  notFound: 'Integration not found',
  key: 'integrationId',
  sql: integrationSubject,
  // update: replace the key or model, re-test the key
  actions: ['read', 'update', 'delete'],
});
