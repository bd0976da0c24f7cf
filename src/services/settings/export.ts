/**
 * The data export (S6, §5.15, D19): the account and, page by page, the workspaces it belongs
 * to with their conversations, messages and memories, and its integrations (never their
 * keys). Pages are read as they are written (presenters/export.ts, lib/json-stream.ts), so
 * memory use stays flat whatever the account holds.
 */
import { messagesAfter } from '../../data/chat-messages.js';
import { conversationsAfter } from '../../data/conversations.js';
import { exportedIntegrationsAfter } from '../../data/integrations.js';
import { memoriesAfter } from '../../data/memories.js';
import type { Db } from '../../data/sql.js';
import { findAccount } from '../../data/users.js';
import { memberWorkspacesAfter } from '../../data/workspaces.js';
import { notFound } from '../../lib/errors.js';

const PAGE = 500;

/** Fetches pages until one comes back short; `fetch` gets the id of the last row of the previous page. */
async function* pages<T extends { id: string }>(fetch: (after: string | null, take: number) => Promise<T[]>): AsyncIterable<T[]> {
  let after: string | null = null;
  for (;;) {
    const rows: T[] = await fetch(after, PAGE);
    if (rows.length) yield rows;
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1]!.id;
  }
}

/** `chimera_data_export_YYYYMMDD_HHMMSS.json` in UTC. */
export function exportFilename(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
  return `chimera_data_export_${stamp}.json`;
}

/** What the export holds of `userId`: the account now, every list as pages read when iterated. */
export async function exportContent(db: Db, userId: string) {
  const account = await findAccount(db, userId);
  if (!account) throw notFound('User not found'); // deleted since it authenticated
  return {
    account,
    workspaces: pages((after, take) => memberWorkspacesAfter(db, userId, after, take)),
    conversationsOf: (workspaceId: string) => pages((after, take) => conversationsAfter(db, workspaceId, after, take)),
    messagesOf: (conversationId: string) => pages((after, take) => messagesAfter(db, conversationId, after, take)),
    memoriesOf: (workspaceId: string) => pages((after, take) => memoriesAfter(db, workspaceId, after, take)),
    integrations: pages((after, take) => exportedIntegrationsAfter(db, userId, after, take)),
  };
}
