/**
 * The pgvector backend against the exact in-memory scan over the same database: hits with their
 * exact scores, in order, nearly all of the exact top-k (HNSW is approximate), with tag filters
 * and workspace scoping, before and after
 * random writes and deletes (its embeddings caught up through the change log). On PostgreSQL
 * it runs only where the server has the extension (Debian's has not: skipped, with the reason).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { autoPicksPgvector } from '../../src/bootstrap.js';
import { pgvectorAvailable } from '../../src/data/chunk-embeddings.js';
import { replaceChunks } from '../../src/data/memory-chunks.js';
import { vectorToBytes } from '../../src/lib/vectors.js';
import { deleteMemory } from '../../src/services/memories/service.js';
import { PgVectorIndex } from '../../src/services/memories/pgvector-index.js';
import { InMemoryVectorIndex, type VectorIndex, type VectorQuery } from '../../src/services/memories/vector-index.js';
import { createTestDatabase, storages, type TestDatabase } from '../support/db.js';
import { prng, seedVectorWorkspaces, unit } from '../support/vectors.js';

const DIMS = 16;

/** Hits with scores rounded (pgvector computes cosine in float8 over float4, the scan in float32). */
async function rounded(index: VectorIndex, q: VectorQuery) {
  return (await index.search(q)).map((h) => ({ memoryId: h.memoryId, score: Math.round(h.score * 1e4) / 1e4 }));
}

for (const storage of storages()) {
  describe(`pgvector index on ${storage}`, () => {
    let t: TestDatabase;
    let available = false;
    beforeAll(async () => {
      t = await createTestDatabase(storage);
      available = await pgvectorAvailable(t.db);
      if (!available) console.log(`skipped: pgvector index on ${storage}: the server has no pgvector extension`);
    });
    afterAll(() => t?.drop());

    it('returns what the exact scan returns (tags, scoping), and catches up on writes and deletes from anywhere', async (test) => {
      if (!available) return test.skip();
      const prisma = t.db.prisma;
      const user = await prisma.user.create({ data: { email: `pgv-${storage}@test.local`, name: 'V', passwordHash: 'x' } });
      const rand = prng(3);
      const spaces = await seedVectorWorkspaces(prisma, user.id, { label: `pgv-${storage}`, workspaces: 2, memories: 60, dims: DIMS, rand, chunksOf: (i) => 1 + (i % 3), tagsOf: (i) => (i % 3 ? [] : ['third']) });
      const pgvector = new PgVectorIndex(t.db);
      const exact = new InMemoryVectorIndex(t.db);
      const third = new Set((await prisma.memory.findMany({ where: { tags: { has: 'third' } }, select: { id: true } })).map((m) => m.id));
      const compare = async () => {
        for (let i = 0; i < 6; i++) {
          const q: VectorQuery = {
            workspaceIds: i % 2 ? [spaces[0]!] : spaces, vector: unit(rand, DIMS), model: 'm', limit: 10, minScore: i % 3 === 0 ? 0.3 : -1,
            allowed: i % 3 === 1 ? third : undefined,
          };
          const got = await rounded(pgvector, q);
          const expected = await rounded(exact, q);
          // HNSW is approximate: every hit carries its exact score (so no stale or deleted vector
          // answers), in order, and nearly all of the exact top-k are found.
          const all = new Map((await rounded(exact, { ...q, limit: 1000, minScore: -1 })).map((h) => [h.memoryId, h.score]));
          for (const h of got) expect(h.score).toBeCloseTo(all.get(h.memoryId)!, 3);
          expect(got.map((h) => h.score)).toEqual([...got.map((h) => h.score)].sort((a, b) => b - a));
          const found = expected.filter((h) => got.some((g) => g.memoryId === h.memoryId)).length;
          expect(found).toBeGreaterThanOrEqual(Math.floor(expected.length * 0.8));
          // A filter on few memories is ranked exactly: the exact scan's hits.
          if (q.allowed) expect(got).toEqual(expected);
          for (const h of got) {
            expect(q.workspaceIds.some((w) => h.memoryId.startsWith(w))).toBe(true);
            if (q.allowed) expect(q.allowed.has(h.memoryId)).toBe(true);
          }
        }
      };
      await compare();
      expect(pgvector.stats()).toEqual({ backend: 'pgvector', cachedMb: 0, cachedWorkspaces: 0, budgetMb: null });
      // The exact ranking of a filter on few memories does not depend on the graph's search width.
      const narrow = new PgVectorIndex(t.db, { efSearch: 1 });
      for (let i = 0; i < 8; i++) {
        const q: VectorQuery = { workspaceIds: spaces, vector: unit(rand, DIMS), model: 'm', limit: 10, minScore: -1, allowed: third };
        expect(await rounded(narrow, q)).toEqual(await rounded(exact, q));
      }

      await fc.assert(
        fc.asyncProperty(fc.array(fc.record({ memory: fc.integer({ min: 0, max: 59 }), chunks: fc.integer({ min: 0, max: 3 }), seed: fc.integer() }), { minLength: 1, maxLength: 6 }), async (writes) => {
          for (const w of writes) {
            const id = `${spaces[0]}-m${String(w.memory).padStart(2, '0')}`;
            const exists = await prisma.memory.findUnique({ where: { id } });
            if (w.chunks === 0) {
              if (exists) await deleteMemory(prisma, { id, workspaceId: spaces[0]! });
              continue;
            }
            if (!exists) await prisma.memory.create({ data: { id, workspaceId: spaces[0]!, title: 't', content: 'c' } });
            const r = prng(w.seed);
            await prisma.$transaction((tx) =>
              replaceChunks(tx, [id], Array.from({ length: w.chunks }, (_, chunkIndex) => ({ memoryId: id, workspaceId: spaces[0]!, chunkIndex, content: 'c', vector: vectorToBytes(unit(r, DIMS)), dimensions: DIMS, model: 'm' }))),
            );
          }
          await compare();
        }),
        { numRuns: 6 },
      );
    }, 240_000);

    it('finds `limit` distinct memories when one memory owns more of the nearest chunks than the first window', async (test) => {
      if (!available) return test.skip();
      const prisma = t.db.prisma;
      const user = await prisma.user.create({ data: { email: `pgv-crowd-${storage}@test.local`, name: 'V', passwordHash: 'x' } });
      const ws = await prisma.workspace.create({ data: { id: `workspace-pgv-crowd-${storage}`, name: 'V', ownerId: user.id } });
      const rand = prng(11);
      const query = unit(rand, DIMS);
      const near = (spread: number) => unit(() => 0.5, DIMS).map((_, i) => query[i]! + spread * (rand() * 2 - 1));
      const ids = ['crowd', ...Array.from({ length: 12 }, (_, i) => `other${i}`)].map((n) => `${ws.id}-${n}`);
      await prisma.memory.createMany({ data: ids.map((id) => ({ id, workspaceId: ws.id, title: 't', content: 'c' })) });
      // 200 chunks of one memory right around the query: more than the first window of 60.
      const chunks = [
        ...Array.from({ length: 200 }, (_, chunkIndex) => ({ memoryId: ids[0]!, vector: near(0.01), chunkIndex })),
        ...ids.slice(1).map((memoryId) => ({ memoryId, vector: near(0.6), chunkIndex: 0 })),
      ];
      await replaceChunks(prisma, ids, chunks.map((c) => ({ ...c, workspaceId: ws.id, content: 'c', vector: vectorToBytes(new Float32Array(c.vector)), dimensions: DIMS, model: 'm' })));
      const q: VectorQuery = { workspaceIds: [ws.id], vector: query, model: 'm', limit: 10, minScore: -1 };
      const got = await new PgVectorIndex(t.db).search(q);
      const expected = await new InMemoryVectorIndex(t.db).search(q);
      expect(got).toHaveLength(10);
      expect(got[0]!.memoryId).toBe(ids[0]);
      expect(got.filter((h) => expected.some((e) => e.memoryId === h.memoryId)).length).toBeGreaterThanOrEqual(8);
    }, 120_000);
  });
}

describe('VECTOR_BACKEND=auto', () => {
  it('takes pgvector only on a PostgreSQL server with the extension, for a bank larger than VECTOR_CACHE_MB holds or several instances on one database', () => {
    const base = { available: true, embedded: false, chunks: 10_000, vectorCacheMb: 256, sharedInstances: false };
    expect(autoPicksPgvector(base)).toBe(false);
    expect(autoPicksPgvector({ ...base, chunks: 200_000 })).toBe(true);
    expect(autoPicksPgvector({ ...base, chunks: 200_000, vectorCacheMb: 1024 })).toBe(false);
    expect(autoPicksPgvector({ ...base, sharedInstances: true })).toBe(true);
    expect(autoPicksPgvector({ ...base, available: false, chunks: 10 ** 7, sharedInstances: true })).toBe(false);
    // The embedded database keeps the memory index, however large the bank.
    expect(autoPicksPgvector({ ...base, embedded: true, chunks: 10 ** 7 })).toBe(false);
  });
});
