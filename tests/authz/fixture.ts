/**
 * The matrix fixture: one session per actor (registered once per storage) and fresh
 * workspaces whose memberships are written directly, so each row can get new data cheaply.
 */
import { newId } from '../../src/lib/ids.js';
import type { TestApp } from '../support/app.js';
import { registerUser } from '../support/factories.js';
import { ACTORS, type Actor, KEY_SCOPES, type MatrixFixture } from './types.js';

type Member = Exclude<Actor, 'anonymous' | 'stranger' | 'owner'>;
const MEMBER_ROLES: Member[] = ['observer', 'researcher', 'admin'];

export async function createMatrixFixture(app: TestApp): Promise<MatrixFixture> {
  const users = ACTORS.filter((a): a is Exclude<Actor, 'anonymous'> => a !== 'anonymous');
  const entries = await Promise.all(users.map(async (actor) => [actor, await registerUser(app, { name: `Matrix ${actor}` })] as const));
  const sessions = Object.fromEntries(entries) as unknown as MatrixFixture['sessions'];
  const keys = Object.fromEntries(
    await Promise.all(
      KEY_SCOPES.map(async (scope) => {
        const res = await app.http.post('/api/auth/api-keys').set(sessions.owner.auth).send({ name: `Matrix ${scope}`, scopes: [scope] }).expect(201);
        return [scope, { Authorization: `Bearer ${res.body.data.key}` }] as const;
      }),
    ),
  ) as unknown as MatrixFixture['keys'];
  return {
    app,
    sessions,
    keys,
    async freshWorkspace() {
      const owner = sessions.owner.user.id;
      const workspace = await app.deps.prisma.workspace.create({
        data: {
          id: newId('workspace'),
          name: 'Matrix workspace',
          description: '',
          ownerId: owner,
          members: {
            create: [
              { id: newId('tm'), userId: owner, role: 'admin', status: 'online' },
              ...MEMBER_ROLES.map((role) => ({ id: newId('tm'), userId: sessions[role].user.id, role, status: 'online' })),
            ],
          },
        },
        select: { id: true },
      });
      return workspace;
    },
  };
}

/** One workspace per fixture for rows that only read (saves creating six per row). */
const shared = new WeakMap<MatrixFixture, Promise<{ id: string }>>();
export function readOnlyWorkspace(f: MatrixFixture): Promise<{ id: string }> {
  let ws = shared.get(f);
  if (!ws) {
    ws = f.freshWorkspace();
    shared.set(f, ws);
  }
  return ws;
}

/** A user created directly in the database (no session needed), e.g. an invitee or a member to remove. */
export async function extraUser(f: MatrixFixture, label: string) {
  return f.app.deps.prisma.user.create({
    data: { email: `${label}-${newId('tm').slice(3)}@example.test`, name: `Matrix ${label}`, passwordHash: 'unusable' },
    select: { id: true, email: true },
  });
}
