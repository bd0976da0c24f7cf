/**
 * Personal API keys for scripts and MCP clients: `chm_` and 32 random bytes (base64url).
 * The key is shown once, on creation; the database keeps its SHA-256 (a slow password hash
 * buys nothing against 256 random bits) and a prefix that lists show. The prefix makes keys
 * easy for secret scanners to spot. authenticate.ts accepts them as bearer credentials.
 */
import { createHash, randomBytes } from 'node:crypto';
import { apiKeysOf, insertApiKey, type ListedApiKey, revokeApiKey } from '../../data/api-keys.js';
import { readableWorkspaceIds } from '../../data/membership.js';
import type { Database } from '../../db/client.js';
import { badRequest } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import type { ApiKeyScope } from '../../policies/index.js';

export const API_KEY_PREFIX = 'chm_';
/** How much of a key lists show: the prefix and 8 characters of the random part. */
const SHOWN_LENGTH = API_KEY_PREFIX.length + 8;

/** Bearer credentials that are API keys (anything else is taken for a session's token). */
export const looksLikeApiKey = (token: string): boolean => token.startsWith(API_KEY_PREFIX);

export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('base64url');

export interface NewApiKeyInput {
  name: string;
  scopes: ApiKeyScope[];
  workspaceIds?: string[];
  expiresAt?: Date;
}

/** A new key's row, and the key itself: the only time it exists outside the client. */
export interface CreatedApiKey {
  row: ListedApiKey;
  key: string;
}

/** Creates a key for the user, limited to workspaces the user belongs to, expiring in the future if at all. */
export async function createApiKey(db: Database, userId: string, input: NewApiKeyInput): Promise<CreatedApiKey> {
  const workspaceIds = [...new Set(input.workspaceIds ?? [])];
  if (workspaceIds.length) {
    const member = new Set(await readableWorkspaceIds(db, userId, workspaceIds));
    const foreign = workspaceIds.filter((id) => !member.has(id));
    if (foreign.length) throw badRequest({ workspaceIds: [`Not a workspace of yours: ${foreign.join(', ')}`] });
  }
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) throw badRequest({ expiresAt: ['Must be in the future'] });
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  const row = await insertApiKey(db.prisma, {
    id: newId('key'),
    userId,
    name: input.name,
    prefix: key.slice(0, SHOWN_LENGTH),
    keyHash: hashApiKey(key),
    scopes: [...new Set(input.scopes)],
    workspaceIds,
    expiresAt: input.expiresAt ?? null,
  });
  return { row, key };
}

export const listApiKeys = (db: Database, userId: string): Promise<ListedApiKey[]> => apiKeysOf(db.prisma, userId);

export async function revoke(db: Database, keyId: string): Promise<void> {
  await revokeApiKey(db.prisma, keyId, new Date());
}
