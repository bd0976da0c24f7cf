/**
 * The one place that decides who may do what (D6). One rule table per resource; routes
 * declare `policy: <resource>.can('<action>')` and the route pipeline enforces it, services
 * that address a subject from a request body call `authorizeOn`.
 *
 * A new action is a new line in its resource's rule table, with the API-key scope it needs in
 * the resource's `keys` table (null: keys are refused), and a matrix row that exercises it
 * (the matrix fails on an action no row decides). A new resource is a file here with
 * `defineResource` (its loader: one SQL fragment yielding the subject as JSON, with the
 * caller's role from `roleIn` where membership matters, kept in the resource's data module
 * under src/data/) and an entry in RESOURCES.
 */
import { account } from './account.js';
import { apiKey } from './api-key.js';
import { conversation } from './conversation.js';
import { integration } from './integration.js';
import { invitation } from './invitation.js';
import { memory } from './memory.js';
import { memoryHistory } from './memory-history.js';
import type { Resource } from './policy.js';
import { teamMember } from './team-member.js';
import { workspace } from './workspace.js';

export { account, apiKey, conversation, integration, invitation, memory, memoryHistory, teamMember, workspace };
export { type Actor, authorize, authorizeOn, decide, onDecision, type Requirement, type Resource, subjectOf } from './policy.js';
export { invitationStands } from './invitation.js';
export { API_KEY_SCOPES, type ApiKeyScope, type KeyGrant, workspaceLimitOf } from './scopes.js';
export { type Role, roleFrom } from './membership.js';
export type { ConversationSubject } from './conversation.js';
export type { MemorySubject } from './memory.js';
export type { MemoryHistorySubject } from './memory-history.js';
export type { TeamMemberSubject } from './team-member.js';
export type { WorkspaceSubject } from './workspace.js';

/** Every resource with a rule table. */
export const RESOURCES: readonly Resource<unknown, string, string>[] = [account, workspace, teamMember, conversation, memory, memoryHistory, integration, invitation, apiKey] as never;

/** Every action as `resource: action`, e.g. `workspace: update`. */
export const ALL_ACTIONS: readonly string[] = RESOURCES.flatMap((r) => Object.keys(r.rules).map((action) => `${r.name}: ${action}`));
