/**
 * The statements an account's export and retention run over the content of workspaces:
 * conversations, their messages and memories (keyset pages; deletions by age).
 */
import type { ChatMessage, Conversation, Memory, Prisma } from '../generated/prisma/client.js';
import type { Db } from './sql.js';

/** Keyset on the primary key: `id > after` walks the index with no rescans. */
const afterId = (after: string | null) => (after === null ? {} : { id: { gt: after } });

/** A workspace's conversations by id, `take` after `after`. */
export const conversationsAfter = (db: Db, workspaceId: string, after: string | null, take: number): Promise<Conversation[]> =>
  db.conversation.findMany({ where: { workspaceId, ...afterId(after) }, orderBy: { id: 'asc' }, take });

/**
 * A conversation's messages in conversation order, `take` after the message `after`:
 * Prisma's cursor compares (timestamp, id) in SQL (database timestamps carry microseconds,
 * JavaScript dates only milliseconds).
 */
export const messagesAfter = (db: Db, conversationId: string, after: string | null, take: number): Promise<ChatMessage[]> =>
  db.chatMessage.findMany({
    where: { conversationId },
    orderBy: [{ timestamp: 'asc' }, { id: 'asc' }],
    take,
    ...(after === null ? {} : { cursor: { id: after }, skip: 1 }),
  });

export type ExportedMemory = Pick<Memory, 'id' | 'title' | 'content' | 'snippet' | 'tags' | 'metadata' | 'version' | 'createdAt' | 'updatedAt'>;

/** A workspace's memories by id, `take` after `after`. */
export const memoriesAfter = (db: Db, workspaceId: string, after: string | null, take: number): Promise<ExportedMemory[]> =>
  db.memory.findMany({
    where: { workspaceId, ...afterId(after) },
    orderBy: { id: 'asc' },
    take,
    select: { id: true, title: true, content: true, snippet: true, tags: true, metadata: true, version: true, createdAt: true, updatedAt: true },
  });

/** Whose workspaces a deletion by age covers: one owner's, or those of every owner with a retention period. */
export type Owners = { ownerId: string } | { retentionPeriod: string };

const ownedBy = (owners: Owners): Prisma.WorkspaceWhereInput =>
  'ownerId' in owners ? { ownerId: owners.ownerId } : { owner: { retentionPeriod: owners.retentionPeriod } };

const conversationsBefore = (owners: Owners, cutoff: Date) => ({ workspace: ownedBy(owners), updatedAt: { lt: cutoff } }) satisfies Prisma.ConversationWhereInput;

/** Messages of the conversations `deleteConversationsBefore` would delete. */
export const countMessagesOfConversationsBefore = (db: Db, owners: Owners, cutoff: Date) =>
  db.chatMessage.count({ where: { conversation: conversationsBefore(owners, cutoff) } });

/** Deletes the conversations not updated since `cutoff` (their messages cascade); the count. */
export async function deleteConversationsBefore(db: Db, owners: Owners, cutoff: Date): Promise<number> {
  return (await db.conversation.deleteMany({ where: conversationsBefore(owners, cutoff) })).count;
}

/** Deletes the memories not updated since `cutoff`; the count. */
export async function deleteMemoriesBefore(db: Db, owners: Owners, cutoff: Date): Promise<number> {
  return (await db.memory.deleteMany({ where: { workspace: ownedBy(owners), updatedAt: { lt: cutoff } } })).count;
}

/** An arbitrary constant naming the retention sweep's advisory lock. */
const SWEEP_LOCK = 0x43_68_69_6d_52_65_74n; // "ChimRet"

/**
 * Takes the retention sweep's transaction-level lock unless another transaction holds it.
 * Raw: advisory locks. (PGlite is single-process; the lock is harmless there.)
 */
export async function tryRetentionSweepLock(tx: Db): Promise<boolean> {
  const rows = await tx.$queryRaw<{ locked: boolean }[]>`SELECT pg_try_advisory_xact_lock(${SWEEP_LOCK}::bigint) AS locked`;
  return rows[0]?.locked === true;
}
