import type { ListedApiKey } from '../data/api-keys.js';
import type { ApiKey, CreatedApiKey } from '../schemas/responses/auth.js';
import type { Presented } from '../schemas/responses/common.js';

const fields = (k: ListedApiKey) => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  // Written from the request's validated scopes only.
  scopes: k.scopes as Presented<typeof ApiKey>['scopes'],
  workspaceIds: k.workspaceIds.length ? k.workspaceIds : null,
  createdAt: k.createdAt.toISOString(),
  expiresAt: k.expiresAt?.toISOString() ?? null,
});

/** A key as lists show it (no hash, no key). */
export function presentApiKey(k: ListedApiKey): Presented<typeof ApiKey> {
  return { ...fields(k), lastUsedAt: k.lastUsedAt?.toISOString() ?? null };
}

/** A new key, with the key in full: shown this once. */
export function presentCreatedApiKey({ row, key }: { row: ListedApiKey; key: string }): Presented<typeof CreatedApiKey> {
  return { ...fields(row), key };
}
