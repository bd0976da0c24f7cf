/**
 * Poll versions: the statements reading the versions of the polled answers (contract §1.13)
 * that triggers bump in every writing transaction (migration 20261206020000_poll_versions):
 * a workspace's memory list, conversation list and team (workspace_counters), and one
 * conversation with its messages (conversation_versions). Each is a fragment riding along with
 * the authentication statement (RouteSpec.preload); its text never varies (values are parameters).
 */
import { Prisma } from '../generated/prisma/client.js';

/** The workspace-level answers and their version columns. */
const WORKSPACE_COLUMNS = {
  memories: Prisma.raw('"memory_list_version"'),
  conversations: Prisma.raw('"conversation_list_version"'),
  team: Prisma.raw('"team_version"'),
} as const;

export type WorkspacePoll = keyof typeof WORKSPACE_COLUMNS;

/** The version of one of a workspace's polled answers, as text (the drivers disagree on int8); null without a counter row. */
export const workspacePollVersionSql = (poll: WorkspacePoll, workspaceId: string) => Prisma.sql`
  SELECT k.${WORKSPACE_COLUMNS[poll]}::text FROM "workspace_counters" k WHERE k."workspace_id" = ${workspaceId}`;

/** The version of a conversation with its messages, as text: 0 until its first change. */
export const conversationPollVersionSql = (conversationId: string) => Prisma.sql`
  SELECT coalesce((SELECT v."version" FROM "conversation_versions" v WHERE v."conversation_id" = ${conversationId}), 0)::text`;

/** The value of either fragment. */
export const isPollVersion = (value: unknown): value is string | null => value === null || typeof value === 'string';
