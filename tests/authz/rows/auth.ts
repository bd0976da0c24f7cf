import { registerUser } from '../../support/factories.js';
import { type Actor, everyone, everyUser, type MatrixFixture, type MatrixRow, type PreparedRequest } from '../types.js';

/** A throwaway account per actor (anonymous: none), so ending its sessions leaves the fixture's tokens alive. */
async function throwaway(f: MatrixFixture, actor: Actor, path: string, body?: (password: string) => unknown): Promise<PreparedRequest> {
  if (actor === 'anonymous') return { path, body: body?.('not the password') };
  const s = await registerUser(f.app);
  return { path, headers: s.auth, body: body?.(s.password) };
}

export const rows: MatrixRow[] = [
  { operationId: 'A1', prepare: () => ({ path: '/auth/register', body: {} }), expect: everyone(400) },
  { operationId: 'A2', prepare: () => ({ path: '/auth/login', body: { email: 'nobody@example.test', password: 'password123' } }), expect: everyone(401) },
  {
    operationId: 'A3',
    // a throwaway session per actor, so logging out does not revoke the fixture's tokens
    prepare: async (f, actor) => {
      if (actor === 'anonymous') return { path: '/auth/logout' };
      const s = await registerUser(f.app);
      return { path: '/auth/logout', headers: s.auth };
    },
    expect: everyUser(200),
  },
  { operationId: 'logoutAll', prepare: (f, actor) => throwaway(f, actor, '/auth/logout-all'), expect: everyUser(200) },
  {
    operationId: 'changePassword',
    prepare: (f, actor) => throwaway(f, actor, '/auth/password', (password) => ({ currentPassword: password, newPassword: 'a new password' })),
    expect: everyUser(200),
  },
  { operationId: 'A4', prepare: () => ({ path: '/auth/refresh', body: {} }), expect: everyone(400) },
  { operationId: 'A5', prepare: () => ({ path: '/auth/profile' }), expect: everyUser(200) },
  { operationId: 'A6', prepare: () => ({ path: '/auth/profile/update', body: {} }), expect: everyUser(200) },
  { operationId: 'createApiKey', prepare: () => ({ path: '/auth/api-keys', body: { name: 'Matrix', scopes: ['memories:read'] } }), expect: everyUser(201) },
  { operationId: 'listApiKeys', prepare: () => ({ path: '/auth/api-keys' }), expect: everyUser(200) },
  {
    operationId: 'revokeApiKey',
    // each actor revokes a key of their own; the stranger tries one of the owner's
    prepare: async (f, actor) => {
      const holder = actor === 'anonymous' || actor === 'stranger' ? f.sessions.owner : f.sessions[actor];
      const created = await f.app.http.post('/api/auth/api-keys').set(holder.auth).send({ name: 'Matrix', scopes: ['chat'] }).expect(201);
      return { path: `/auth/api-keys/${created.body.data.id}` };
    },
    expect: { ...everyUser(200), stranger: 404 },
  },
  { operationId: 'U1', prepare: () => ({ path: '/health' }), expect: everyone(200) },
  { operationId: 'getOpenApiDocument', prepare: () => ({ path: '/openapi.json' }), expect: everyone(200) },
  { operationId: 'getOpenApiYaml', prepare: () => ({ path: '/openapi.yaml' }), expect: everyone(200) },
  { operationId: 'getDocsPage', prepare: () => ({ path: '/docs' }), expect: everyone(200) },
  { operationId: 'getDocsScript', prepare: () => ({ path: '/docs/app.js' }), expect: everyone(200) },
];
