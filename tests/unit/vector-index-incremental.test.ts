/**
 * The vector index catches up on writes in place: after any sequence of added, replaced and
 * deleted chunks, made by this index's process or another one on the same database, a
 * matrix brought up to date holds exactly what a fresh load holds and answers every query
 * the same — in memory (applyChanges against buildMatrix) and through the change log on
 * both storages. And the byte budget evicts the least recently used workspaces, which are
 * still searched correctly.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexStamps } from '../../src/data/index-stamps.js';
import { type ChunkVectorView, replaceChunks } from '../../src/data/memory-chunks.js';
import { vectorToBytes } from '../../src/lib/vectors.js';
import { deleteMemory } from '../../src/services/memories/service.js';
import { applyChanges, buildMatrix, codeRows, InMemoryVectorIndex, MatrixLoader, matrixBytes, matrixContents, searchMatrix, type VectorQuery, type WorkspaceMatrix } from '../../src/services/memories/vector-index.js';
import { createTestDatabase, storages, type TestDatabase } from '../support/db.js';
import { prng, seedVectorWorkspaces, unit } from '../support/vectors.js';

/** A matrix's memories and their chunk vectors, in a form where layout does not matter. */
function contents(m: WorkspaceMatrix | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [id, vectors] of matrixContents(m!)) out[id] = vectors.map((v) => Array.from(v).join(',')).sort();
  return out;
}

const DIMS = 20;
const options = (quantizeFrom: number) => ({ version: 1n, model: 'm', dimensions: DIMS, kernel: 'wasm' as const, quantizeFrom, wasmFrom: 0 });

/** One write: memory `memory` gets `chunks` new chunks (0: all deleted). */
const change = fc.record({ memory: fc.integer({ min: 0, max: 40 }), chunks: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 4 }), weight: 20 }, { arbitrary: fc.constant(300), weight: 1 }), seed: fc.integer() });

describe('matrix updated in place', () => {
  it('equals a fresh build of the same chunks after any change sets (slots reused, buffer grown or compacted)', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 0, max: 60 }), fc.array(fc.tuple(fc.array(change, { minLength: 1, maxLength: 6 }), fc.integer({ min: 0, max: 80 })), { maxLength: 8 }), fc.constantFrom(0, Infinity), (seed, initial, batches, quantizeFrom) => {
        const rand = prng(seed);
        const state = new Map<string, Uint8Array[]>();
        for (let i = 0; i < initial; i++) state.set(`mem-${i % 41}`, Array.from({ length: 1 + (i % 3) }, () => vectorToBytes(unit(rand, DIMS))));
        const rows = (ids: Iterable<string>): ChunkVectorView[] => [...ids].flatMap((id) => (state.get(id) ?? []).map((vector) => ({ memoryId: id, vector })));
        // Loaded as the index loads (int8 copy uncoded), then coded a few rows at a time between
        // change sets, as idle time codes it: the int8 pass runs only once all rows are coded.
        const loader = new MatrixLoader(options(quantizeFrom));
        for (const c of rows(state.keys())) loader.add(c.memoryId, c.vector, 0, c.vector.byteLength);
        let m = loader.finish();
        for (const [batch, code] of batches) {
          codeRows(m, code);
          const ids = new Set<string>();
          for (const c of batch) {
            const id = `mem-${c.memory}`;
            ids.add(id);
            const r = prng(c.seed);
            if (c.chunks === 0) state.delete(id);
            else state.set(id, Array.from({ length: c.chunks }, () => vectorToBytes(unit(r, DIMS))));
          }
          m = applyChanges(m, [...ids], rows(ids));
          if (code % 2) codeRows(m, Infinity);
          const fresh = buildMatrix(rows(state.keys()), options(quantizeFrom));
          expect(contents(m)).toEqual(contents(fresh));
          expect(m.rows).toBe(fresh.rows);
          for (const minScore of [-1, 0.3]) {
            const query: VectorQuery = { workspaceIds: ['w'], vector: unit(rand, DIMS), model: 'm', limit: 7, minScore };
            expect(searchMatrix(m, query)).toEqual(searchMatrix(fresh, query));
          }
        }
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});

describe('matrix loaded with a size hint', () => {
  it('equals one loaded without, whether the hint is right, short (rows coded before it overflows) or long', () => {
    const rand = prng(11);
    const rows: ChunkVectorView[] = Array.from({ length: 9000 }, (_, i) => ({ memoryId: `mem-${String(Math.floor(i / 3)).padStart(5, '0')}`, vector: vectorToBytes(unit(rand, DIMS)) }));
    const o = { ...options(4096), wasmFrom: 0 };
    const load = (hint: number) => {
      const loader = new MatrixLoader(o, hint);
      for (const r of rows) loader.add(r.memoryId, r.vector, 0, r.vector.byteLength);
      const m = loader.finish();
      expect(m.quantized!.coded).toBe(0);
      expect(codeRows(m, 4000)).toBe(false);
      expect(codeRows(m, Infinity)).toBe(true);
      return m;
    };
    const plain = load(0);
    expect(plain.quantized).not.toBeNull();
    for (const hint of [9000, 5000, 8191, 20000]) {
      const hinted = load(hint);
      expect(contents(hinted)).toEqual(contents(plain));
      expect(Array.from(hinted.quantized!.scale.subarray(0, 9000))).toEqual(Array.from(plain.quantized!.scale.subarray(0, 9000)));
      for (let i = 0; i < 5; i++) {
        const query: VectorQuery = { workspaceIds: ['w'], vector: unit(rand, DIMS), model: 'm', limit: 8, minScore: -1 };
        expect(searchMatrix(hinted, query)).toEqual(searchMatrix(plain, query));
        expect(searchMatrix(hinted, query)).toEqual(searchMatrix(load(0), { ...query }));
      }
    }
  });
});

for (const storage of storages()) {
  describe(`vector index catching up through the change log on ${storage}`, () => {
    let t: TestDatabase;
    let run = 0;
    beforeAll(async () => {
      t = await createTestDatabase(storage);
    });
    afterAll(() => t?.drop());

    it('equals a fresh load after random writes and deletes from two instances, without reloading', async () => {
      const prisma = t.db.prisma;
      const user = await prisma.user.create({ data: { email: `vinc-${storage}@test.local`, name: 'V', passwordHash: 'x' } });
      await fc.assert(
        fc.asyncProperty(fc.integer(), fc.array(fc.tuple(change, fc.constantFrom('backlog', 'delete', 'other-model'), fc.boolean()), { minLength: 1, maxLength: 10 }), async (seed, writes) => {
          const rand = prng(seed);
          const ws = await prisma.workspace.create({ data: { id: `workspace-vinc-${storage}-${run++}`, name: 'V', ownerId: user.id } });
          const memoryId = (i: number) => `${ws.id}-m${String(i % 12).padStart(2, '0')}`;
          // Two server instances: each has its own index over the same database.
          const here = new InMemoryVectorIndex(t.db, { quantizeFrom: 1, wasmFrom: 0 });
          const there = new InMemoryVectorIndex(t.db, { kernel: 'js' });
          const query = (): VectorQuery => ({ workspaceIds: [ws.id], vector: unit(rand, DIMS), model: 'm', limit: 5, minScore: -1 });
          const chunksOf = (id: string, n: number, s: number) => {
            const r = prng(s);
            return Array.from({ length: Math.min(n, 4) }, (_, chunkIndex) => ({ memoryId: id, workspaceId: ws.id, chunkIndex, content: 'c', vector: vectorToBytes(unit(r, DIMS)), dimensions: DIMS, model: 'm' }));
          };
          await prisma.memory.createMany({ data: Array.from({ length: 12 }, (_, i) => ({ id: memoryId(i), workspaceId: ws.id, title: 't', content: 'c' })) });
          await replaceChunks(prisma, [memoryId(0), memoryId(1)], [...chunksOf(memoryId(0), 2, seed), ...chunksOf(memoryId(1), 1, seed + 1)]);
          await here.search(query());
          await there.search(query());
          const loads = { here: here.cached(ws.id), there: there.cached(ws.id) };

          for (const [c, kind, searchBetween] of writes) {
            const id = memoryId(c.memory);
            if (kind === 'delete') {
              if (await prisma.memory.findUnique({ where: { id } })) await deleteMemory(prisma, { id, workspaceId: ws.id });
            } else {
              if (!(await prisma.memory.findUnique({ where: { id } }))) await prisma.memory.create({ data: { id, workspaceId: ws.id, title: 't', content: 'c' } });
              const chunks = chunksOf(id, c.chunks, c.seed);
              await prisma.$transaction((tx) => replaceChunks(tx, [id], kind === 'other-model' ? chunks.map((k) => ({ ...k, model: 'other' })) : chunks));
            }
            if (searchBetween) await (c.seed % 2 ? here : there).search(query());
          }

          const fresh = new InMemoryVectorIndex(t.db, { quantizeFrom: 1, wasmFrom: 0 });
          for (let i = 0; i < 3; i++) {
            const q = query();
            const expected = await fresh.search(q);
            expect(await here.search(q)).toEqual(expected);
            expect(await there.search(q)).toEqual(expected);
          }
          expect(contents(here.cached(ws.id))).toEqual(contents(fresh.cached(ws.id)));
          expect(contents(there.cached(ws.id))).toEqual(contents(fresh.cached(ws.id)));
          // Caught up in place: still the matrices loaded first (no reload, room to spare).
          expect(here.cached(ws.id)).toBe(loads.here);
          expect(there.cached(ws.id)).toBe(loads.there);
          // The stamp's chunk count (the size a cold load lays out) followed every write.
          const [stamp] = await indexStamps(t.db, [ws.id]);
          expect(stamp!.chunks).toBe(await prisma.memoryChunk.count({ where: { workspaceId: ws.id } }));
        }),
        { numRuns: storage === 'pglite' ? 8 : 15 },
      );
    }, 240_000);

    it('keeps within its byte budget, evicting the least recently used workspace, which is still searched correctly', async () => {
      const prisma = t.db.prisma;
      const user = await prisma.user.create({ data: { email: `vbud-${storage}@test.local`, name: 'V', passwordHash: 'x' } });
      const rand = prng(5);
      const spaces = await seedVectorWorkspaces(prisma, user.id, { label: `vbud-${storage}`, workspaces: 3, memories: 50, dims: DIMS, rand });
      const unlimited = new InMemoryVectorIndex(t.db);
      const oneWorkspace = new InMemoryVectorIndex(t.db, { budgetBytes: 1 });
      const two = new InMemoryVectorIndex(t.db);
      await two.search({ workspaceIds: [spaces[0]!], vector: unit(rand, DIMS), model: 'm', limit: 5, minScore: -1 });
      const perWorkspace = matrixBytes(two.cached(spaces[0]!)!);
      const budgeted = new InMemoryVectorIndex(t.db, { budgetBytes: Math.ceil(perWorkspace * 2.5) });
      for (const ws of [...spaces, spaces[0]!, spaces[2]!, spaces[1]!]) {
        const q: VectorQuery = { workspaceIds: [ws], vector: unit(rand, DIMS), model: 'm', limit: 5, minScore: -1 };
        const expected = await unlimited.search(q);
        expect(await budgeted.search(q)).toEqual(expected);
        expect(await oneWorkspace.search(q)).toEqual(expected);
        expect(budgeted.stats().cachedWorkspaces).toBeLessThanOrEqual(2);
        expect(oneWorkspace.stats().cachedWorkspaces).toBe(0);
      }
      // The last two used stay: spaces[2] then spaces[1]; spaces[0] went first.
      expect(budgeted.cached(spaces[0]!)).toBeUndefined();
      expect(budgeted.cached(spaces[1]!)).toBeDefined();
      expect(budgeted.cached(spaces[2]!)).toBeDefined();
      // Several workspaces in one search, over budget: still every hit.
      const q: VectorQuery = { workspaceIds: spaces, vector: unit(rand, DIMS), model: 'm', limit: 20, minScore: -1 };
      expect(await budgeted.search(q)).toEqual(await unlimited.search(q));
      expect(budgeted.stats()).toMatchObject({ backend: 'memory', cachedWorkspaces: 2 });
    });

    it('lends the memory of an evicted matrix to the next load, never while a search still reads it', async () => {
      const prisma = t.db.prisma;
      const user = await prisma.user.create({ data: { email: `vlend-${storage}@test.local`, name: 'V', passwordHash: 'x' } });
      const rand = prng(9);
      const spaces = await seedVectorWorkspaces(prisma, user.id, { label: `vlend-${storage}`, workspaces: 4, memories: 60, dims: DIMS, rand, chunksOf: () => 2 });
      // SIMD kernel and int8 pass at any size, so every matrix has memory to lend.
      const small = { wasmFrom: 0, quantizeFrom: 1 };
      const unlimited = new InMemoryVectorIndex(t.db, small);
      const probe = new InMemoryVectorIndex(t.db, small);
      await probe.search({ workspaceIds: [spaces[0]!], vector: unit(rand, DIMS), model: 'm', limit: 5, minScore: -1 });
      const oneAndAHalf = Math.ceil(matrixBytes(probe.cached(spaces[0]!)!) * 1.5);

      // One at a time: the second load takes the first one's memory.
      const lending = new InMemoryVectorIndex(t.db, { ...small, budgetBytes: oneAndAHalf });
      await lending.search({ workspaceIds: [spaces[0]!], vector: unit(rand, DIMS), model: 'm', limit: 5, minScore: -1 });
      const first = lending.cached(spaces[0]!)!.kernel.buffer;
      // The load left its int8 copy to idle time, which codes it.
      const loaded = lending.cached(spaces[0]!)!;
      expect(loaded.quantized!.coded).toBe(0);
      await new Promise((r) => setImmediate(r));
      expect(loaded.quantized!.coded).toBe(loaded.used);
      await lending.search({ workspaceIds: [spaces[1]!], vector: unit(rand, DIMS), model: 'm', limit: 5, minScore: -1 });
      expect(lending.cached(spaces[0]!)).toBeUndefined();
      expect(lending.cached(spaces[1]!)!.kernel.buffer).toBe(first); // the same memory, now spaces[1]'s matrix
      // Concurrent searches over one, two or three workspaces at once, with room for one: loads
      // evict matrices other searches are about to read; every answer is still the exact one.
      const queries = Array.from({ length: 40 }, (_, i): VectorQuery => {
        const pick = spaces.filter((_, w) => (i * 7 + w * 3) % 5 < 2 + (i % 2));
        return { workspaceIds: pick.length ? pick : [spaces[i % 4]!], vector: unit(rand, DIMS), model: 'm', limit: 6, minScore: -1 };
      });
      const expected = await Promise.all(queries.map((q) => unlimited.search(q)));
      for (let round = 0; round < 3; round++) {
        expect(await Promise.all(queries.map((q) => lending.search(q)))).toEqual(expected);
      }
      // A write makes the next search of a workspace catch up in place while loads of the others
      // evict it: the matrix being caught up must not lend its memory meanwhile.
      for (let round = 0; round < 4; round++) {
        const id = `${spaces[round]}-m00`;
        await prisma.$transaction((tx) => replaceChunks(tx, [id], [0, 1, 2].map((chunkIndex) => ({ memoryId: id, workspaceId: spaces[round]!, chunkIndex, content: 'c', vector: vectorToBytes(unit(rand, DIMS)), dimensions: DIMS, model: 'm' }))));
        const mixed = queries.slice(round * 10, round * 10 + 10);
        const want = await Promise.all(mixed.map((q) => unlimited.search(q)));
        expect(await Promise.all(mixed.map((q) => lending.search(q)))).toEqual(want);
      }
    });
  });
}
