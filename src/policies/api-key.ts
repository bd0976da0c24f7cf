/** Personal API keys belong to one user: anyone else's id is answered as if it did not exist. */
import { apiKeySubject } from '../data/api-keys.js';
import { personalResource } from './policy.js';

export const apiKey = personalResource({
  name: 'api-key',
  notFound: 'API key not found',
  key: 'apiKeyId',
  sql: apiKeySubject,
  actions: ['revoke'],
});
