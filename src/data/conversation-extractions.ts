/**
 * Conversation extractions: every statement on the `conversation_extractions` table, the
 * durable queue of the fact extraction (one row per conversation). A `pending` row is work,
 * whoever wrote it; a claim moves it to `running` with a timestamp, and a `running` row whose
 * claim is older than the lease is work again (the process that claimed it died).
 */
import type { ConversationExtraction, Prisma } from '../generated/prisma/client.js';
import type { Db } from './sql.js';

export type ExtractionRow = ConversationExtraction;

/**
 * Queues the conversation's extraction for `requestedById` (whose key it uses). A running one
 * is asked again without being claimable twice: its `requestedAt` moves, and the run that
 * holds it queues it again when it finishes (finishExtraction).
 */
export async function requestExtraction(db: Db, row: { conversationId: string; workspaceId: string; requestedById: string }): Promise<ExtractionRow> {
  const requestedAt = new Date();
  const running = await db.conversationExtraction.updateMany({
    where: { conversationId: row.conversationId, status: 'running' },
    data: { requestedById: row.requestedById, requestedAt, attempts: 0 },
  });
  if (running.count) return db.conversationExtraction.findUniqueOrThrow({ where: { conversationId: row.conversationId } });
  return db.conversationExtraction.upsert({
    where: { conversationId: row.conversationId },
    create: { ...row, requestedAt },
    update: { requestedById: row.requestedById, status: 'pending', requestedAt, attempts: 0 },
  });
}

export function findExtraction(db: Db, conversationId: string): Promise<ExtractionRow | null> {
  return db.conversationExtraction.findUnique({ where: { conversationId } });
}

/** Claims the longest-waiting extraction (pending, or running past `leaseMs`); null when there is none. */
export async function claimExtraction(db: Db, leaseMs: number): Promise<ExtractionRow | null> {
  // Raw: SKIP LOCKED, so several instances claim different rows in one statement each.
  const rows = await db.$queryRaw<{ conversationId: string }[]>`
    UPDATE conversation_extractions e SET status = 'running', claimed_at = now(), attempts = e.attempts + 1
     WHERE e.conversation_id = (
       SELECT c.conversation_id FROM conversation_extractions c
        WHERE c.status = 'pending' OR (c.status = 'running' AND c.claimed_at < now() - make_interval(secs => ${leaseMs / 1000}))
        ORDER BY c.requested_at LIMIT 1 FOR UPDATE SKIP LOCKED)
     RETURNING e.conversation_id AS "conversationId"`;
  return rows[0] ? findExtraction(db, rows[0].conversationId) : null;
}

export interface ExtractionOutcome {
  status: 'done' | 'fallback';
  throughMessageId?: string | null;
  error: string | null;
  result: Record<string, unknown>;
}

/**
 * Records the run's outcome. When the extraction was asked again while it ran (its
 * `requestedAt` moved), the row goes back to pending for another run (of what came since).
 */
export async function finishExtraction(db: Db, claimed: Pick<ExtractionRow, 'conversationId' | 'requestedAt'>, outcome: ExtractionOutcome): Promise<void> {
  const data = {
    ...(outcome.throughMessageId !== undefined && { throughMessageId: outcome.throughMessageId }),
    error: outcome.error,
    result: outcome.result as Prisma.InputJsonValue,
    finishedAt: new Date(),
  };
  const { count } = await db.conversationExtraction.updateMany({
    where: { conversationId: claimed.conversationId, requestedAt: claimed.requestedAt },
    data: { ...data, status: outcome.status, claimedAt: null },
  });
  if (count === 0) await db.conversationExtraction.updateMany({ where: { conversationId: claimed.conversationId }, data: { ...data, status: 'pending', claimedAt: null } });
}

/** Puts a claimed extraction back in the queue (its run failed unexpectedly). */
export async function releaseExtraction(db: Db, conversationId: string): Promise<void> {
  await db.conversationExtraction.updateMany({ where: { conversationId, status: 'running' }, data: { status: 'pending', claimedAt: null } });
}

/** How many extractions wait or run. */
export function countQueuedExtractions(db: Db): Promise<number> {
  return db.conversationExtraction.count({ where: { status: { in: ['pending', 'running'] } } });
}
