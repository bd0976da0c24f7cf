/**
 * The data export (S6, §5.15, D19), written as it is read: rows come from the database in
 * keyset-paginated pages and are serialised straight to the response (honouring
 * backpressure), so memory use stays flat whatever the account holds. The output is
 * byte-for-byte what `JSON.stringify(document, null, 2)` would give. Provider keys never
 * appear: integrations are read without their key column.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { AppDeps } from '../../app-deps.js';
import type { PrismaClient } from '../../db/client.js';
import { readableWorkspaceIds } from '../../policies/index.js';
import { presentSettings } from './account.js';

const PAGE = 500;

/** A value produced while writing (a paginated array) instead of one held in memory. */
class Streamed {
  constructor(readonly write: (out: JsonWriter, depth: number) => Promise<void>) {}
}
type Value = unknown;

/** Output is gathered into ~64 KB writes: one socket write per JSON fragment would be slow. */
const FLUSH_AT = 64 * 1024;

class JsonWriter {
  private pending = '';

  constructor(private readonly out: Writable) {}

  async raw(text: string): Promise<void> {
    this.pending += text;
    if (this.pending.length >= FLUSH_AT) await this.flush();
  }

  async flush(): Promise<void> {
    if (!this.pending) return;
    const chunk = this.pending;
    this.pending = '';
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }

  async value(value: Value, depth: number): Promise<void> {
    if (value instanceof Streamed) return value.write(this, depth);
    await this.raw(JSON.stringify(value, null, 2).replace(/\n/g, `\n${pad(depth)}`));
  }

  async object(entries: [string, Value][], depth: number): Promise<void> {
    await this.raw('{');
    for (const [i, [key, value]] of entries.entries()) {
      await this.raw(`${i ? ',' : ''}\n${pad(depth + 1)}${JSON.stringify(key)}: `);
      await this.value(value, depth + 1);
    }
    await this.raw(entries.length ? `\n${pad(depth)}}` : '}');
  }
}

const pad = (depth: number) => '  '.repeat(depth);

/** An array whose items come page by page; an item may itself be an object with streamed parts. */
function streamedArray<T>(pages: AsyncIterable<T[]>, render: (item: T) => [string, Value][]): Streamed {
  return new Streamed(async (out, depth) => {
    await out.raw('[');
    let n = 0;
    for await (const page of pages) {
      for (const item of page) {
        await out.raw(`${n++ ? ',' : ''}\n${pad(depth + 1)}`);
        await out.object(render(item), depth + 1);
      }
    }
    await out.raw(n ? `\n${pad(depth)}]` : ']');
  });
}

/** Fetches pages until one comes back short; `fetch` gets the last row of the previous page. */
async function* pages<T extends { id: string }>(fetch: (last: { id: string } | null) => Promise<T[]>): AsyncIterable<T[]> {
  let last: T | null = null;
  for (;;) {
    const rows: T[] = await fetch(last);
    if (rows.length) yield rows;
    if (rows.length < PAGE) return;
    last = rows[rows.length - 1]!;
  }
}

/**
 * Keyset on the primary key: `id > last` walks the index with no rescans and no precision
 * pitfalls (database timestamps carry microseconds, JavaScript dates only milliseconds).
 */
const byId = (last: { id: string } | null) => ({ where: last ? { id: { gt: last.id } } : {}, orderBy: { id: 'asc' as const }, take: PAGE });

/** Messages keep their conversation order: Prisma's cursor compares (timestamp, id) in SQL. */
const byTimestamp = (last: { id: string } | null) => ({
  orderBy: [{ timestamp: 'asc' as const }, { id: 'asc' as const }],
  take: PAGE,
  ...(last ? { cursor: { id: last.id }, skip: 1 } : {}),
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function workspaceParts(prisma: PrismaClient, userId: string) {
  return (ws: { id: string; name: string; description: string | null; ownerId: string; createdAt: Date; updatedAt: Date }): [string, Value][] => [
    ['id', ws.id],
    ['name', ws.name],
    ['description', ws.description],
    ['ownerId', ws.ownerId],
    ['isOwner', ws.ownerId === userId],
    ['createdAt', iso(ws.createdAt)],
    ['updatedAt', iso(ws.updatedAt)],
    ['conversations', streamedArray(
      pages((last) => {
        const page = byId(last);
        return prisma.conversation.findMany({ ...page, where: { workspaceId: ws.id, ...page.where } });
      }),
      (c) => [
        ['id', c.id], ['title', c.title], ['modelId', c.modelId], ['status', c.status], ['createdAt', iso(c.createdAt)], ['updatedAt', iso(c.updatedAt)],
        ['messages', streamedArray(
          pages((last) => prisma.chatMessage.findMany({ ...byTimestamp(last), where: { conversationId: c.id } })),
          (m) => [['id', m.id], ['role', m.role], ['content', m.content], ['isPinned', m.isPinned], ['timestamp', iso(m.timestamp)], ['metadata', m.metadata ?? {}]],
        )],
      ],
    )],
    ['memories', streamedArray(
      pages((last) => {
        const page = byId(last);
        return prisma.memory.findMany({
          ...page,
          where: { workspaceId: ws.id, ...page.where },
          select: { id: true, title: true, content: true, snippet: true, tags: true, metadata: true, version: true, createdAt: true, updatedAt: true },
        });
      }),
      (m) => [
        ['id', m.id], ['title', m.title], ['content', m.content], ['snippet', m.snippet], ['tags', m.tags], ['metadata', m.metadata ?? {}],
        ['version', m.version], ['createdAt', iso(m.createdAt)], ['updatedAt', iso(m.updatedAt)],
      ],
    )],
  ];
}

/** `chimera_data_export_YYYYMMDD_HHMMSS.json` in UTC. */
export function exportFilename(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
  return `chimera_data_export_${stamp}.json`;
}

/** Writes the whole export document for `userId` to `out` (the caller sets the headers). */
export async function writeExport(deps: AppDeps, userId: string, out: Writable): Promise<void> {
  const { prisma } = deps;
  const user = await prisma.user.findUniqueOrThrow({ where: { id: userId } });
  const writer = new JsonWriter(out);
  const readable = { id: { in: await readableWorkspaceIds(deps.db, userId) } };
  await writer.object(
    [
      ['user', { id: user.id, name: user.name, email: user.email, createdAt: iso(user.createdAt) }],
      ['settings', presentSettings(user)],
      ['workspaces', streamedArray(
        pages((last) => {
          const page = byId(last);
          return prisma.workspace.findMany({ ...page, where: { AND: [readable, page.where] } });
        }),
        workspaceParts(prisma, userId),
      )],
      ['integrations', streamedArray(
        pages((last) => {
          const page = byId(last);
          return prisma.integration.findMany({
            ...page,
            where: { userId, ...page.where },
            select: { id: true, provider: true, status: true, lastTested: true, createdAt: true },
          });
        }),
        (i) => [['id', i.id], ['provider', i.provider], ['status', i.status], ['lastTested', iso(i.lastTested)], ['createdAt', iso(i.createdAt)]],
      )],
    ],
    0,
  );
  await writer.flush();
}
