/**
 * What a personal API key may do: its scopes, each granting a family of actions, and the
 * workspaces it is limited to. Which scope an action needs is written beside the action, in
 * the `keys` table of its resource (src/policies/*.ts); `decide` (policy.ts) applies it
 * before the rule, so the REST routes, the MCP tools and the legacy tool routes check keys the
 * same way.
 */
export const API_KEY_SCOPES = ['memories:read', 'memories:write', 'conversations:read', 'chat', 'workspaces:read'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/**
 * What an API key needs for one action: a scope; `any` for entry points (the MCP endpoint)
 * whose every call is authorized again on what it addresses, scope by scope; or null where
 * keys are refused (account, sessions, keys, settings, integrations, team management).
 */
export type KeyAccess = ApiKeyScope | 'any' | null;

/** What the caller's API key grants: null on a session's access token. */
export interface KeyGrant {
  id: string;
  scopes: readonly ApiKeyScope[];
  /** The workspaces the key may act in; null: every workspace of its user. */
  workspaceIds: readonly string[] | null;
}

/** Ids of the workspaces a caller is limited to (an API key's), or null when it is not. */
export const workspaceLimitOf = (actor: { key?: KeyGrant | null }): readonly string[] | null => actor.key?.workspaceIds ?? null;
