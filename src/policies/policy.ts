/**
 * How access is decided: every resource (workspace, conversation, memory, …) is a subject
 * that can be loaded and a rule table naming each action on it and who may perform it, in
 * the style of cancan / Outline's `allow(User, "update", Document, …)`. Routes declare
 * `policy: workspace.can('update')`; the route pipeline (http/route.ts) then loads the
 * subject (404), authorizes (403) and only then validates the input. Services that address
 * a subject named in a request body (the MCP tools, search) call `authorizeOn`, which runs
 * the same load and rule. A caller with an API key is first checked against the resource's
 * `keys` table (the scope the action needs) and the key's workspaces, then by the same rule:
 * a key acts with its user's role, capped by its scopes.
 */
import type { Database } from '../db/client.js';
import { queryValue } from '../db/client.js';
import type { Prisma } from '../generated/prisma/client.js';
import { AppError } from '../lib/errors.js';
import { isPlainObject } from '../lib/objects.js';
import type { UserRef } from '../data/membership.js';
import type { KeyAccess, KeyGrant } from './scopes.js';

/** Who asks: the authenticated user, and the API key they presented (absent or null for a session's token). */
export interface Actor {
  id: string;
  key?: KeyGrant | null;
}

/** A refusal: the status and text the caller gets (403 mostly; 404 where existence must not show). */
export interface Refusal {
  status: 400 | 403 | 404;
  message: string;
}

export type Decision = true | Refusal;

export const refuse = (message = 'Access denied', status: Refusal['status'] = 403): Refusal => ({ status, message });

/** One line of a rule table: may `actor` perform the action on `subject`? */
export type Rule<S> = (actor: Actor, subject: S) => Decision;

/** A loader's cheap shape check: a plain object whose `keys` are strings (other fields are the loader's to check). */
export const hasStrings = <K extends string>(value: unknown, ...keys: K[]): value is Record<K, string> & Record<string, unknown> =>
  isPlainObject(value) && keys.every((key) => typeof value[key] === 'string');

/**
 * How a subject is read: one SQL fragment yielding one JSON value, null when there is no
 * such row. A fragment, so that the route pipeline can run it inside the authentication
 * lookup (one statement, no extra round trip); `check` is a cheap run-time check of the
 * value's shape, `subject` builds what the rules and the handler see. The resource's name
 * names the prepared statement, so the text of `sql` must never vary.
 */
export interface SubjectLoader<K extends string, Row, S> {
  /** The ids it is loaded by: path params of the routes that declare the resource. */
  keys: readonly K[];
  /** `actorId`: the caller's id, or the SQL expression of it inside an API key's authentication statement. */
  sql: (actorId: UserRef, keys: Readonly<Record<K, string>>) => Prisma.Sql;
  check: (value: unknown) => value is Row;
  subject: (row: Row) => S;
}

/**
 * A resource: its subject loader (null for the caller's own account, whose subject is the
 * caller), the 404 text when the subject is missing, and its rule table.
 */
export interface ResourceDefinition<S, K extends string> {
  name: string;
  notFound: string;
  load: SubjectLoader<K, any, S> | null;
  rules: Readonly<Record<string, Rule<S>>>;
  /** What an API key needs for each action (see KeyAccess); checked before the rule. */
  keys: Readonly<Record<string, KeyAccess>>;
  /** The workspace a subject lies in, for keys limited to some workspaces (absent: none). */
  workspaceOf?: (subject: S) => string;
}

export interface Resource<S, A extends string, K extends string> extends ResourceDefinition<S, K> {
  rules: Readonly<Record<A, Rule<S>>>;
  keys: Readonly<Record<A, KeyAccess>>;
  /** The requirement a route declares: `policy: workspace.can('update')`. */
  can(action: A): Requirement<K, S>;
}

/**
 * What a route needs: an action on a resource. `K` are the path parameters the resource is
 * loaded by (a route whose path lacks them does not compile), `S` the subject its handler gets.
 */
export interface Requirement<K extends string, S> {
  readonly resource: ResourceDefinition<S, K>;
  readonly action: string;
}

export function defineResource<S, A extends string, K extends string = never>(definition: {
  name: string;
  notFound: string;
  load: SubjectLoader<K, any, S> | null;
  rules: Record<A, Rule<S>>;
  keys: Record<NoInfer<A>, KeyAccess>;
  workspaceOf?: (subject: S) => string;
}): Resource<S, A, K> {
  const resource: Resource<S, A, K> = { ...definition, can: (action) => ({ resource, action }) };
  return resource;
}

/** Told of every decision; the authorization matrix checks with it that each action is exercised. */
export type DecisionListener = (resource: string, action: string, decision: Decision) => void;
const listeners = new Set<DecisionListener>();

export function onDecision(listener: DecisionListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * What an API key may not do, whatever its user's role: an action keys are refused, one
 * outside its scopes, or a subject outside its workspaces. Null when the key may go on to the rule.
 */
function keyRefusal<S>(key: KeyGrant, resource: ResourceDefinition<S, string>, action: string, subject: S): Refusal | null {
  const needed = resource.keys[action];
  if (needed === null || needed === undefined) return refuse('API keys cannot be used for this; sign in to the app instead');
  if (needed !== 'any' && !key.scopes.includes(needed)) return refuse(`This API key lacks the scope "${needed}"`);
  const workspaceId = key.workspaceIds && resource.workspaceOf ? resource.workspaceOf(subject) : null;
  if (workspaceId !== null && !key.workspaceIds!.includes(workspaceId)) return refuse('This API key is not allowed in this workspace');
  return null;
}

/** The decision of `resource`'s rule for `action`, without throwing. */
export function decide<S>(actor: Actor, requirement: Requirement<string, S>, subject: S): Decision {
  const { resource, action } = requirement;
  const rule = resource.rules[action as keyof typeof resource.rules];
  if (!rule) throw new Error(`${resource.name} has no rule for "${action}"`);
  const decision = (actor.key && keyRefusal(actor.key, resource, action, subject)) || rule(actor, subject);
  if (listeners.size) for (const listener of listeners) listener(resource.name, action, decision);
  return decision;
}

/** Throws the refusal (403, or the rule's own status) unless the rule allows the action. */
export function authorize<S>(actor: Actor, requirement: Requirement<string, S>, subject: S): void {
  const decision = decide(actor, requirement, subject);
  if (decision !== true) throw new AppError(decision.status, decision.message);
}

/** The subject from a loaded value: 404 with the resource's text when missing. */
export function subjectOf<K extends string, S>(resource: ResourceDefinition<S, K>, value: unknown): S {
  const load = resource.load!;
  if (value === null || value === undefined) throw new AppError(404, resource.notFound);
  if (!load.check(value)) throw new Error(`${resource.name}: the loaded value does not have the declared shape`);
  return load.subject(value);
}

/**
 * Load (404) then authorize (403), for subjects a request names in its body rather than its
 * path: one statement. Returns the subject.
 */
export async function authorizeOn<K extends string, S>(
  db: Pick<Database, 'query'>,
  actor: Actor,
  requirement: Requirement<K, S>,
  keys: Readonly<Record<K, string>>,
): Promise<S> {
  const load = requirement.resource.load;
  if (!load) throw new Error(`${requirement.resource.name} is the caller's own: nothing to load`);
  const subject = subjectOf(requirement.resource, await queryValue<unknown>(db, load.sql(actor.id, keys), `subject-${requirement.resource.name}`));
  authorize(actor, requirement, subject);
  return subject;
}

/** The subject of a resource that belongs to one user. */
export interface PersonalSubject {
  id: string;
  ownerId: string;
}

/**
 * A resource that belongs to one user: every action is its owner's alone, and anyone else
 * is told the subject does not exist (404 with the resource's text), never that it is someone
 * else's. `sql` yields {id, ownerId} of the row with that id.
 */
export function personalResource<A extends string, K extends string>(definition: {
  name: string;
  notFound: string;
  key: K;
  sql: (id: string) => Prisma.Sql;
  actions: readonly A[];
}): Resource<PersonalSubject, A, K> {
  const ownerOnly: Rule<PersonalSubject> = (actor, subject) => (subject.ownerId === actor.id ? true : refuse(definition.notFound, 404));
  return defineResource<PersonalSubject, A, K>({
    name: definition.name,
    notFound: definition.notFound,
    load: {
      keys: [definition.key],
      sql: (_actorId, keys) => definition.sql(keys[definition.key]),
      check: (v): v is PersonalSubject => hasStrings(v, 'id', 'ownerId'),
      subject: (row: PersonalSubject) => row,
    },
    rules: Object.fromEntries(definition.actions.map((action) => [action, ownerOnly])) as Record<A, Rule<PersonalSubject>>,
    // Personal resources are managed in the app: keys are refused.
    keys: Object.fromEntries(definition.actions.map((action) => [action, null])) as Record<A, KeyAccess>,
  });
}
