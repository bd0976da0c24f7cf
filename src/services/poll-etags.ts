/**
 * ETags of the polled answers (contract §1.13) derived from versions instead of bodies: the
 * memory list (M1, with its query), the conversation list (C1), a conversation with its
 * messages (C3) and the team (T1). Triggers bump each version in every transaction that
 * changes what the answer shows (data/poll-versions.ts), so the ETag moves whenever the body
 * can, on every instance alike. The version rides along with the authentication statement
 * (RouteSpec.preload): a poll whose If-None-Match matches is answered 304 after that one
 * statement, without reading or serializing the list.
 *
 * The version is read before the body: a write landing in between gives a body newer than
 * its ETag says, which the next poll, seeing a newer version, simply fetches again. A body
 * is never older than its ETag.
 */
import { createHash } from 'node:crypto';
import { conversationPollVersionSql, isPollVersion, type WorkspacePoll, workspacePollVersionSql } from '../data/poll-versions.js';
import type { Preload } from '../data/sessions.js';

/** Raise when what an answer shows for the same rows changes (a presenter's new field), so the old ETags stop matching. */
const ANSWER_FORMAT = 1;

const workspacePoll = <Q>(poll: WorkspacePoll): Preload<string | null, 'workspaceId', Q> => ({
  name: `poll-${poll}`,
  check: isPollVersion,
  sql: ({ params }) => workspacePollVersionSql(poll, params.workspaceId),
});

/** The version of each polled answer, riding along with the authentication statement. */
export const memoryListVersion = workspacePoll<unknown>('memories');
export const conversationListVersion = workspacePoll<unknown>('conversations');
export const teamVersion = workspacePoll<unknown>('team');
export const conversationVersion: Preload<string | null, 'conversationId'> = {
  name: 'poll-conversation',
  check: isPollVersion,
  sql: ({ params }) => conversationPollVersionSql(params.conversationId),
};

/** Query values in a fixed key order (the parsed query's key order follows the URL's). */
const canonical = (query: object) => JSON.stringify(Object.entries(query).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)));

/**
 * The weak ETag of a polled answer: the subject (kind and id), its version and everything
 * else the body depends on (the validated query; for a search, the instance's embedding
 * model). A missing version (no counter row) is treated as 0.
 */
export function pollEtag(kind: 'memories' | 'conversations' | 'conversation' | 'team', id: string, version: string | null, inputs: object = {}): string {
  const digest = createHash('sha1').update(`${ANSWER_FORMAT}|${kind}|${id}|${canonical(inputs)}`).digest('base64url').slice(0, 16);
  return `W/"${kind}-${version ?? '0'}-${digest}"`;
}
