import { newId } from '../../../src/lib/ids.js';
import { everyUser, type MatrixFixture, type MatrixRow } from '../types.js';

/**
 * An integration of the `owner` actor. Its stored value is not a valid ciphertext, so no
 * route ever contacts a real provider: G6 answers the owner 400 (Failed to decrypt API key).
 */
const created = new WeakMap<MatrixFixture, Map<string, Promise<string>>>();

/** The six actors of one row are prepared in parallel: they share one integration. */
function ownersIntegration(f: MatrixFixture, row: string): Promise<string> {
  const perRow = created.get(f) ?? new Map<string, Promise<string>>();
  created.set(f, perRow);
  let id = perRow.get(row);
  if (!id) perRow.set(row, (id = upsertOwnersIntegration(f)));
  return id;
}

async function upsertOwnersIntegration(f: MatrixFixture) {
  const userId = f.sessions.owner.user.id;
  const row = await f.app.deps.prisma.integration.upsert({
    where: { userId_provider: { userId, provider: 'openai' } },
    create: { id: newId('int'), userId, provider: 'openai', apiKey: 'v1:matrix', status: 'connected' },
    update: {},
  });
  return row.id;
}

/** Integrations are per user: only their owner sees them; everyone else gets 404. */
const ownerOnly = (status: number) => ({ ...everyUser(404), owner: status });

export const rows: MatrixRow[] = [
  { operationId: 'G1', prepare: () => ({ path: '/integrations' }), expect: everyUser(200) },
  // An invalid body: validation answers before any live key test could reach a real provider.
  { operationId: 'G2', prepare: () => ({ path: '/integrations', body: { provider: 'openai', apiKey: 'short' } }), expect: everyUser(400) },
  { operationId: 'G3', prepare: async (f) => ({ path: `/integrations/${await ownersIntegration(f, 'G3')}` }), expect: ownerOnly(200) },
  { operationId: 'G4', prepare: async (f) => ({ path: `/integrations/${await ownersIntegration(f, 'G4')}`, body: { modelName: 'Renamed' } }), expect: ownerOnly(200) },
  { operationId: 'G5', prepare: async (f) => ({ path: `/integrations/${await ownersIntegration(f, 'G5')}` }), expect: ownerOnly(200) },
  { operationId: 'G6', prepare: async (f) => ({ path: `/integrations/${await ownersIntegration(f, 'G6')}/test` }), expect: ownerOnly(400) },
  { operationId: 'G7', prepare: () => ({ path: '/models/available' }), expect: everyUser(200) },
];
