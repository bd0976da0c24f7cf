/**
 * Conversations: every statement on the `conversations` table — the conversation policy's
 * subject loader, the conversation commands and lists, and the row lock of a close.
 */
import { type Conversation, Prisma } from '../generated/prisma/client.js';
import { newId } from '../lib/ids.js';
import { roleIn, type UserRef } from './membership.js';
import { type ChildCursor, childrenById, columns, type Db, type RowOf } from './sql.js';
import { type Owners, ownedBy } from './workspaces.js';

/** The conversation policy's subject as its loader yields it; `role` is the caller's role in the workspace (null for non-members). */
export type ConversationSubjectRow = Pick<Conversation, 'id' | 'workspaceId' | 'title' | 'modelId'> & { role: unknown };

/**
 * The conversation policy's loader: the conversation with the caller's role in its workspace,
 * as one JSON value (null when there is none). Raw: a fragment that rides along with the
 * authentication statement (no round trip of its own), and the membership rule is SQL.
 */
export const conversationSubjectSql = (actorId: UserRef, conversationId: string) => Prisma.sql`
  SELECT json_build_object('id', c."id", 'workspaceId', c."workspace_id", 'title', c."title", 'modelId', c."model_id",
                           'role', ${roleIn(Prisma.sql`c."workspace_id"`, actorId)})
    FROM "conversations" c WHERE c."id" = ${conversationId}`;

/** A conversation as C3 shows it: its messages (oldest first) and its injection links (in injection order). */
const withTranscript = {
  messages: { orderBy: [{ timestamp: 'asc' }, { id: 'asc' }] },
  injections: { orderBy: [{ injectedAt: 'asc' }, { id: 'asc' }], select: { memoryId: true, isActive: true } },
  extraction: true,
} satisfies Prisma.ConversationInclude;

export type FullConversation = Prisma.ConversationGetPayload<{ include: typeof withTranscript }>;

export type ConversationListRow = Conversation & { _count: { messages: number } };

export function findConversation(db: Db, id: string): Promise<FullConversation | null> {
  return db.conversation.findUnique({ where: { id }, include: withTranscript });
}

/** A page of the workspace's conversations, most recently updated first, with their message counts. */
export function workspaceConversations(db: Db, workspaceId: string, page: { limit?: number; offset?: number }): Promise<ConversationListRow[]> {
  return db.conversation.findMany({
    where: { workspaceId },
    orderBy: [{ updatedAt: 'desc' }, { id: 'asc' }],
    take: page.limit,
    skip: page.offset,
    include: { _count: { select: { messages: true } } },
  });
}

export function countWorkspaceConversations(db: Db, workspaceId: string): Promise<number> {
  return db.conversation.count({ where: { workspaceId } });
}

export function insertConversation(db: Db, row: Pick<Conversation, 'workspaceId' | 'title' | 'modelId' | 'createdById'>): Promise<FullConversation> {
  return db.conversation.create({ data: { id: newId('conv'), ...row }, include: withTranscript });
}

export interface ConversationChanges {
  title?: string;
  status?: string;
  summaryMemoryId?: string;
  /** Set explicitly: a change that names no field still counts as an update (§5.16). */
  updatedAt: Date;
}

export function updateConversationRow(db: Db, id: string, changes: ConversationChanges): Promise<FullConversation> {
  return db.conversation.update({ where: { id }, data: changes, include: withTranscript });
}

/** Deletes the conversation (its messages and injection links cascade); one already gone is no error. */
export async function deleteConversationRow(db: Db, id: string): Promise<void> {
  await db.conversation.deleteMany({ where: { id } });
}

/** Bumps updatedAt: a change to its messages counts as an update of the conversation (§5.16). */
export async function touchConversation(db: Db, id: string): Promise<void> {
  await db.conversation.update({ where: { id }, data: { updatedAt: new Date() } });
}

/** Locks the conversation's row until the transaction `db` ends. */
export async function lockConversation(db: Prisma.TransactionClient, id: string): Promise<void> {
  // Raw: Prisma has no SELECT … FOR UPDATE.
  await db.$queryRaw`SELECT id FROM conversations WHERE id = ${id} FOR UPDATE`;
}

/** Whether the conversation's workspace extracts facts when a conversation closes (its autoExtract setting). */
export async function autoExtractOf(db: Db, conversationId: string): Promise<boolean> {
  const row = await db.conversation.findUnique({ where: { id: conversationId }, select: { workspace: { select: { autoExtract: true } } } });
  return row?.workspace.autoExtract ?? false;
}

/** The workspace the conversation belongs to, or null when there is no such conversation. */
export async function conversationWorkspaceId(db: Db, conversationId: string): Promise<string | null> {
  const conversation = await db.conversation.findUnique({ where: { id: conversationId }, select: { workspaceId: true } });
  return conversation?.workspaceId ?? null;
}

/** The conversation fields the export writes, with the workspace's id. */
const exportedConversationColumns = columns('Conversation', 'c', {
  id: 'id',
  workspaceId: 'workspace_id',
  title: 'title',
  modelId: 'model_id',
  status: 'status',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
});

export type ExportedConversation = RowOf<typeof exportedConversationColumns>;

/**
 * The conversations of these workspaces, in the list's order and then by id, `take` after
 * `after` (the export's pages). Raw: one statement for a whole list of workspaces (childrenById).
 */
export const conversationsOfWorkspaces = (db: Db, workspaceIds: string[], after: ChildCursor | null, take: number): Promise<ExportedConversation[]> =>
  db.$queryRaw<ExportedConversation[]>(childrenById('conversations', 'workspace_id', exportedConversationColumns, workspaceIds, after, take));

/** The conversations of `owners` not updated since `cutoff` (retention). */
export const conversationsBefore = (owners: Owners, cutoff: Date) => ({ workspace: ownedBy(owners), updatedAt: { lt: cutoff } }) satisfies Prisma.ConversationWhereInput;

/** Deletes the conversations not updated since `cutoff` (their messages cascade); the count. */
export async function deleteConversationsBefore(db: Db, owners: Owners, cutoff: Date): Promise<number> {
  return (await db.conversation.deleteMany({ where: conversationsBefore(owners, cutoff) })).count;
}
