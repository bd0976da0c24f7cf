/**
 * The data export (S6, §5.15, D19): the account and, page by page, the workspaces it belongs
 * to with their conversations, messages and memories, and its integrations (never their
 * keys). Pages are read as they are written (presenters/export.ts, lib/json-stream.ts), so
 * memory use stays flat whatever the account holds.
 *
 * The statements do not grow with the number of workspaces or conversations (D21): the
 * conversations and memories of a whole page of workspaces are read together, and the
 * messages of a whole page of conversations, each a page at a time, then handed out parent by
 * parent in the order the document asks for them.
 */
import { messagesOfConversations } from '../../data/chat-messages.js';
import { conversationsOfWorkspaces } from '../../data/conversations.js';
import { exportedIntegrationsAfter } from '../../data/integrations.js';
import { memoriesOfWorkspaces } from '../../data/memories.js';
import type { ChildCursor, Db } from '../../data/sql.js';
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

/**
 * The children of a list of parents (a page of them), read for the whole list a page at a time
 * and handed out parent by parent. Parents are asked for in the list's order, each once; the
 * rows of a parent nobody asked for are skipped.
 */
class ChildrenOfList<T extends { id: string }> {
  private position = new Map<string, number>();
  private parentIds: string[] = [];
  private rows: T[] = [];
  private next = 0;
  private after: ChildCursor | null = null;
  private more = false;

  constructor(
    private readonly fetch: (parentIds: string[], after: ChildCursor | null, take: number) => Promise<T[]>,
    private readonly parentOf: (row: T) => string,
    /** Told each page read, before its rows are handed out. */
    private readonly onPage: (rows: T[]) => void = () => {},
  ) {}

  /** Starts over on a new list of parents. */
  reset(parentIds: string[]): void {
    this.parentIds = parentIds;
    this.position = new Map(parentIds.map((id, i) => [id, i + 1]));
    this.rows = [];
    this.next = 0;
    this.after = null;
    this.more = parentIds.length > 0;
  }

  /** The children of `parentId`, page by page. */
  async *of(parentId: string): AsyncIterable<T[]> {
    const wanted = this.position.get(parentId);
    if (wanted === undefined) return;
    for (;;) {
      while (this.next < this.rows.length && this.parentPosition(this.rows[this.next]!) < wanted) this.next++;
      const first = this.next;
      while (this.next < this.rows.length && this.parentPosition(this.rows[this.next]!) === wanted) this.next++;
      if (this.next > first) yield this.rows.slice(first, this.next);
      // A row of a later parent, or none left: this parent's children are all out.
      if (this.next < this.rows.length || !this.more) return;
      await this.read();
    }
  }

  private parentPosition(row: T): number {
    return this.position.get(this.parentOf(row)) ?? 0;
  }

  private async read(): Promise<void> {
    this.rows = await this.fetch(this.parentIds, this.after, PAGE);
    this.next = 0;
    this.more = this.rows.length === PAGE;
    const last = this.rows[this.rows.length - 1];
    if (last) this.after = { parent: this.parentPosition(last), id: last.id };
    this.onPage(this.rows);
  }
}

/** The pages of `parents`, each starting `children` over on its rows' ids before it is handed out. */
async function* startingChildren<T extends { id: string }>(parents: AsyncIterable<T[]>, ...children: Pick<ChildrenOfList<never>, 'reset'>[]): AsyncIterable<T[]> {
  for await (const page of parents) {
    for (const c of children) c.reset(page.map((row) => row.id));
    yield page;
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
  const messages = new ChildrenOfList((ids, after, take) => messagesOfConversations(db, ids, after, take), (m) => m.conversationId);
  const conversations = new ChildrenOfList(
    (ids, after, take) => conversationsOfWorkspaces(db, ids, after, take),
    (c) => c.workspaceId,
    (page) => messages.reset(page.map((c) => c.id)),
  );
  const memories = new ChildrenOfList((ids, after, take) => memoriesOfWorkspaces(db, ids, after, take), (m) => m.workspaceId);
  return {
    account,
    workspaces: startingChildren(
      pages((after, take) => memberWorkspacesAfter(db, userId, after, take)),
      conversations,
      memories,
    ),
    conversationsOf: (workspaceId: string) => conversations.of(workspaceId),
    messagesOf: (conversationId: string) => messages.of(conversationId),
    memoriesOf: (workspaceId: string) => memories.of(workspaceId),
    integrations: pages((after, take) => exportedIntegrationsAfter(db, userId, after, take)),
  };
}
