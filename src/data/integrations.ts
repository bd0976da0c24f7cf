/**
 * Provider integrations: every statement on the `integrations` table. One row per user and
 * provider; `api_key` holds the key encrypted (the services encrypt and decrypt), or null for
 * a provider that takes none.
 */
import { type Integration, Prisma } from '../generated/prisma/client.js';
import { newId } from '../lib/ids.js';
import type { Db } from './sql.js';

/** The personal-resource loader's statement: {id, ownerId} of the integration. Raw: it rides along with the authentication statement. */
export const integrationSubject = (id: string) =>
  Prisma.sql`SELECT json_build_object('id', i."id", 'ownerId', i."user_id") FROM "integrations" i WHERE i."id" = ${id}`;

const creationOrder = [{ createdAt: 'asc' }, { id: 'asc' }] as const satisfies Prisma.IntegrationOrderByWithRelationInput[];

/** The user's integrations in creation order. */
export const integrationsOf = (db: Db, userId: string): Promise<Integration[]> => db.integration.findMany({ where: { userId }, orderBy: creationOrder });

export const findIntegration = (db: Db, id: string): Promise<Integration | null> => db.integration.findUnique({ where: { id } });

export async function hasIntegrationFor(db: Db, userId: string, provider: string): Promise<boolean> {
  return (await db.integration.findUnique({ where: { userId_provider: { userId, provider } }, select: { id: true } })) !== null;
}

/** What a test of the key records. */
export type TestOutcome = Pick<Integration, 'status' | 'lastTested' | 'errorMessage'>;

/** A new integration (a unique violation when the user has one for the provider already). */
export const insertIntegration = (db: Db, data: Pick<Integration, 'userId' | 'provider' | 'modelId' | 'modelName' | 'apiKey'> & TestOutcome) =>
  db.integration.create({ data: { id: newId('int'), ...data } });

export const updateIntegration = (db: Db, id: string, data: Partial<Pick<Integration, 'modelId' | 'modelName' | 'apiKey'> & TestOutcome>) =>
  db.integration.update({ where: { id }, data });

/** Records a test's outcome, when the row still exists. */
export const recordTest = (db: Db, id: string, outcome: TestOutcome) => db.integration.updateMany({ where: { id }, data: outcome });

export const deleteIntegration = (db: Db, id: string) => db.integration.deleteMany({ where: { id } });

/** Replaces the stored key's ciphertext, unless it changed meanwhile (another writer's key wins). */
export const replaceCiphertext = (db: Db, id: string, from: string, to: string) =>
  db.integration.updateMany({ where: { id, apiKey: from }, data: { apiKey: to } });

/** The provider, model and (encrypted) key of each connected integration of the user, in creation order. */
export const connectedModelsOf = (db: Db, userId: string) =>
  db.integration.findMany({
    where: { userId, status: 'connected' },
    orderBy: creationOrder,
    select: { id: true, provider: true, modelId: true, modelName: true, apiKey: true },
  });

/**
 * Claims a re-test of an integration whose last test failed: moves `last_tested` to `now`
 * when it is older than `interval` ms (or never set). False when tested within the interval
 * or connected meanwhile.
 */
export async function claimRetest(db: Db, id: string, now: Date, interval: number): Promise<boolean> {
  const claimed = await db.integration.updateMany({
    where: { id, status: { not: 'connected' }, OR: [{ lastTested: null }, { lastTested: { lte: new Date(now.getTime() - interval) } }] },
    data: { lastTested: now },
  });
  return claimed.count === 1;
}

/** The key and the state of the last test, as they stand. */
export const keyState = (db: Db, id: string) =>
  db.integration.findUnique({ where: { id }, select: { id: true, apiKey: true, status: true, errorMessage: true } });

/** Export pages: the user's integrations by id, never with the key. */
export const exportedIntegrationsAfter = (db: Db, userId: string, afterId: string | null, take: number) =>
  db.integration.findMany({
    where: { userId, ...(afterId === null ? {} : { id: { gt: afterId } }) },
    orderBy: { id: 'asc' },
    take,
    select: { id: true, provider: true, status: true, lastTested: true, createdAt: true },
  });
