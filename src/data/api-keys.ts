/**
 * Personal API keys: every statement on the `api_keys` table but the authentication
 * statement's lookup (data/sessions.ts). Rows hold the key's SHA-256, never the key.
 */
import type { Database } from '../db/client.js';
import { type ApiKey, Prisma } from '../generated/prisma/client.js';
import type { Db } from './sql.js';

/** The personal-resource loader's statement: {id, ownerId} of a key not yet revoked. Raw: it rides along with the authentication statement. */
export const apiKeySubject = (id: string) =>
  Prisma.sql`SELECT json_build_object('id', k."id", 'ownerId', k."user_id") FROM "api_keys" k WHERE k."id" = ${id} AND k."revoked_at" IS NULL`;

export type NewApiKey = Pick<ApiKey, 'id' | 'userId' | 'name' | 'prefix' | 'keyHash' | 'scopes' | 'workspaceIds' | 'expiresAt'>;

/** What lists show of a key: everything but its hash. */
const listed = { id: true, name: true, prefix: true, scopes: true, workspaceIds: true, createdAt: true, expiresAt: true, lastUsedAt: true } as const;
export type ListedApiKey = Prisma.ApiKeyGetPayload<{ select: typeof listed }>;

export const insertApiKey = (db: Db, key: NewApiKey): Promise<ListedApiKey> => db.apiKey.create({ data: key, select: listed });

/** The user's keys not yet revoked, newest first. */
export const apiKeysOf = (db: Db, userId: string): Promise<ListedApiKey[]> =>
  db.apiKey.findMany({ where: { userId, revokedAt: null }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], select: listed });

/** Revokes the key: from this statement on, the authentication statement refuses it on every instance. */
export const revokeApiKey = (db: Db, id: string, now: Date) => db.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: now } });

/**
 * Records a use of the key, unless one was recorded less than a minute ago (by any instance).
 * Raw: the database clock decides, so instances agree, and it runs on the plain query path
 * of the authenticator, which holds no Prisma client.
 */
export async function touchApiKey(db: Pick<Database, 'query'>, id: string): Promise<void> {
  await db.query(
    `UPDATE "api_keys" SET "last_used_at" = now() WHERE "id" = $1 AND ("last_used_at" IS NULL OR "last_used_at" <= now() - interval '1 minute')`,
    [id],
    'api-key-touch',
  );
}
