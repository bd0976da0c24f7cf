/**
 * The caller's own account and everything that hangs off it alone: profile, settings, tokens,
 * their lists (workspaces, invitations, integrations, models), export and deletion. Its
 * subject is the caller, so every rule allows; declaring them still says, route by route,
 * that the route acts on the caller's own data only. Its `keys` table says which of them an
 * API key may reach.
 */
import { type Actor, defineResource, refuse, type Rule } from './policy.js';

const own: Rule<Actor> = (actor, user) => (actor.id === user.id ? true : refuse());

export const account = defineResource({
  name: 'account',
  notFound: 'User not found',
  load: null,
  rules: {
    /** Profile, settings, the caller's lists and the export. */
    read: own,
    /** Profile and retention changes, cleanup, logout. */
    update: own,
    delete: own,
    'create-workspace': own,
    'create-integration': own,
    /** Search across the caller's workspaces; a given workspace is then authorized as `workspace: read-memories`. */
    'search-memories': own,
    /**
     * The MCP and legacy tool endpoints: each call is then authorized on the workspace,
     * conversation or memory it addresses (`workspace: read-memories`, `memory: read`, …).
     */
    'use-tools': own,
    /** The caller's workspace list (W1). */
    'list-workspaces': own,
    /** Create and list the caller's API keys (revoking one is `api-key: revoke`). */
    'manage-api-keys': own,
  },
  keys: {
    read: null,
    update: null,
    delete: null,
    'create-workspace': null,
    'create-integration': null,
    'search-memories': 'memories:read',
    'use-tools': 'any',
    'list-workspaces': 'workspaces:read',
    // A key cannot create keys, list them or revoke them.
    'manage-api-keys': null,
  },
});
