/**
 * The memory list (M1) without a search is serialized by PostgreSQL (data/memories.ts
 * workspaceMemoryTexts, presenters/memory.ts presentMemoryText). Its bytes must equal
 * JSON.stringify of the presented rows, as the list sent before: for every sort, filter and
 * page, with text that JSON escapes, metadata of every kind, timestamps finer than a
 * millisecond and an embedded memory.
 */
import { beforeAll, expect, it } from 'vitest';
import type { Prisma } from '../../src/generated/prisma/client.js';
import { presentMemory } from '../../src/presenters/memory.js';
import { firstVectors } from '../../src/services/memories/service.js';
import { describeEachStorage, type TestApp } from '../support/app.js';
import { registerUser } from '../support/factories.js';
import { addMemory, defaultWorkspace, tinyModelEnv } from '../support/memories.js';

/** The list as presented from Prisma's rows, in the same order and page. */
async function reference(app: TestApp, workspaceId: string, o: { orderBy: Prisma.MemoryOrderByWithRelationInput[]; tags?: string[]; skip?: number; take?: number }) {
  const where = { workspaceId, ...(o.tags ? { tags: { hasSome: o.tags } } : {}) };
  const rows = await app.deps.prisma.memory.findMany({ where, orderBy: o.orderBy, skip: o.skip, take: o.take });
  const total = await app.deps.prisma.memory.count({ where });
  const vectors = await firstVectors(app.deps.prisma, rows);
  return JSON.stringify({ ok: true, data: { memories: rows.map((m) => presentMemory(m, vectors.get(m.id))), total }, error: null });
}

describeEachStorage(
  'memory list text',
  (ctx) => {
    beforeAll(async () => {
      expect(await ctx().deps.embeddings.embedder.load()).toBe(true);
    });

    it('equals JSON.stringify of the presented rows, byte for byte, for every sort, filter and page', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const ws = await defaultWorkspace(app, owner);
      const embedded = await addMemory(app, owner, ws, { title: 'cat', content: 'the cat sat on the mat', tags: ['pets'] });
      await app.deps.embeddings.backlog.drain();
      await addMemory(app, owner, ws, {
        title: 'Quotes " and \\ backslashes / slashes',
        content: 'Control \u0001\u001f\t\n\r\b\f, DEL \u007f, line sep \u2028\u2029, naïve — 😀 中文 <script>&amp;</script>',
        tags: ['a "quoted" tag', 'ünïcode', 'pets'],
        metadata: { n: 1, f: 1.5, big: 12345678901234567890, e: 1e-7, neg: -0, nested: { deep: [true, null, 'x', { k: 'v' }] }, z: 'last', a: 'first', '': 'empty key' },
      });
      await addMemory(app, owner, ws, { title: 'plain', content: 'x'.repeat(300), metadata: {} });
      // Timestamps with microseconds and a metadata null, straight in the database.
      await app.deps.db.query(`UPDATE memories SET updated_at = now() + interval '1.234567 seconds', created_at = '2001-02-03 04:05:06.999999+00', metadata = 'null'::jsonb WHERE title = 'plain'`);
      const seeded = await app.deps.prisma.memory.findUniqueOrThrow({ where: { id: embedded.id } });
      expect(seeded.embeddingStatus).toBe('ready');

      const cases: [string, Parameters<typeof reference>[2]][] = [
        ['', { orderBy: [{ updatedAt: 'desc' }, { id: 'desc' }] }],
        ['?sortBy=recent', { orderBy: [{ updatedAt: 'desc' }, { id: 'desc' }] }],
        ['?sortBy=title', { orderBy: [{ title: 'asc' }, { id: 'asc' }] }],
        ['?sortBy=created', { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }],
        ['?tags=pets', { orderBy: [{ updatedAt: 'desc' }, { id: 'desc' }], tags: ['pets'] }],
        ['?limit=1&offset=1', { orderBy: [{ updatedAt: 'desc' }, { id: 'desc' }], skip: 1, take: 1 }],
        ['?offset=5', { orderBy: [{ updatedAt: 'desc' }, { id: 'desc' }], skip: 5 }],
      ];
      for (const [query, order] of cases) {
        const res = await app.http.get(`/api/workspaces/${ws}/memories${query}`).set(owner.auth);
        expect(res.status, query).toBe(200);
        expect(res.text, query).toBe(await reference(app, ws, order));
      }
      const all = (await app.http.get(`/api/workspaces/${ws}/memories`).set(owner.auth)).body.data.memories as { id: string; embedding: number[] | null }[];
      expect(all.find((m) => m.id === embedded.id)!.embedding).toHaveLength(app.deps.embeddings.embedder.dimensions!);
    });
  },
  tinyModelEnv(),
);
