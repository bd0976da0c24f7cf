/**
 * The vector index's kernels and its two-pass scan: the WebAssembly SIMD kernel and the
 * JavaScript fallback compute the same float32 scores bit for bit (NaN, infinities,
 * subnormals included); the int8 first pass with float32 rescoring returns exactly the
 * full float32 scan's hits; and the index reloads when the workspace's stamp moves, on
 * both storages.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vectorToBytes } from '../../src/lib/vectors.js';
import { align16, createKernel, type Kernel, paddedStride, wasmKernelAvailable } from '../../src/services/memories/kernel/kernel.js';
import { TopK } from '../../src/services/memories/top-k.js';
import { buildMatrix, InMemoryVectorIndex, searchMatrix, type VectorQuery } from '../../src/services/memories/vector-index.js';
import { createTestDatabase, storages, type TestDatabase } from '../support/db.js';

function prng(seed: number) {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 4294967296;
  };
}

function unit(rand: () => number, d: number, around?: Float32Array, spread = 1): Float32Array {
  const v = new Float32Array(d);
  let n = 0;
  for (let i = 0; i < d; i++) {
    v[i] = (around ? around[i]! : 0) + spread * (rand() * 2 - 1);
    n += v[i]! ** 2;
  }
  n = Math.sqrt(n);
  for (let i = 0; i < d; i++) v[i]! /= n;
  return v;
}

/** Lays rows and a query out in two kernels' buffers and runs every kernel function on both. */
function runKernels(rows: number, dims: number, values: Float32Array, query: Float32Array, pick: number[]) {
  const stride = paddedStride(dims);
  const at = { mat: 0, q: align16(rows * stride * 4), out: 0, idx: 0, out2: 0, i8: 0, q16: 0 };
  at.out = at.q + align16(stride * 4);
  at.idx = at.out + align16(rows * 4);
  at.out2 = at.idx + align16(pick.length * 4);
  at.i8 = at.out2 + align16(pick.length * 4);
  at.q16 = at.i8 + align16(rows * stride);
  const bytes = at.q16 + align16(stride * 2);
  const run = (k: Kernel) => {
    const f32 = new Float32Array(k.buffer);
    const i8 = new Int8Array(k.buffer);
    const i16 = new Int16Array(k.buffer, 0, k.buffer.byteLength >> 1);
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < dims; i++) {
        f32[r * stride + i] = values[r * dims + i]!;
        // Any int8 codes and small int16 codes exercise the integer kernel.
        i8[at.i8 + r * stride + i] = Math.round(Math.max(-127, Math.min(127, (values[r * dims + i]! || 0) * 100)));
      }
    }
    for (let i = 0; i < dims; i++) {
      f32[(at.q >> 2) + i] = query[i]!;
      i16[(at.q16 >> 1) + i] = Math.round(Math.max(-3000, Math.min(3000, (query[i]! || 0) * 1000)));
    }
    new Int32Array(k.buffer).set(pick, at.idx >> 2);
    k.dotF32(at.mat, rows, stride, at.q, at.out);
    k.dotF32Rows(at.mat, at.idx, pick.length, stride, at.q, at.out2);
    k.dotI8(at.i8, rows, stride, at.q16, at.out);
    const ints = Array.from(new Int32Array(k.buffer, at.out, rows));
    k.dotF32(at.mat, rows, stride, at.q, at.out);
    return { all: Array.from(new Float32Array(k.buffer, at.out, rows)), picked: Array.from(new Float32Array(k.buffer, at.out2, pick.length)), ints };
  };
  return { wasm: run(createKernel(bytes, 'wasm')), js: run(createKernel(bytes, 'js')) };
}

describe('vector kernels', () => {
  it('has the WebAssembly SIMD kernel in this runtime', () => {
    expect(wasmKernelAvailable()).toBe(true);
    expect(createKernel(1024).kind).toBe('wasm');
    expect(createKernel(1024, 'js').kind).toBe('js');
  });

  it('computes the same scores in WebAssembly and JavaScript, bit for bit', () => {
    const shape = fc.record({ rows: fc.integer({ min: 1, max: 12 }), dims: fc.integer({ min: 1, max: 70 }) });
    fc.assert(
      fc.property(
        shape.chain(({ rows, dims }) =>
          fc.record({
            rows: fc.constant(rows),
            dims: fc.constant(dims),
            values: fc.float32Array({ minLength: rows * dims, maxLength: rows * dims }),
            query: fc.float32Array({ minLength: dims, maxLength: dims }),
            pick: fc.array(fc.integer({ min: 0, max: rows - 1 }), { maxLength: 8 }),
          }),
        ),
        ({ rows, dims, values, query, pick }) => {
          const { wasm, js } = runKernels(rows, dims, values, query, pick);
          // toEqual tells -0 from 0 and treats every NaN as equal.
          expect(wasm.all).toEqual(js.all);
          expect(wasm.picked).toEqual(js.picked);
          expect(wasm.picked).toEqual(pick.map((r) => wasm.all[r]));
          expect(wasm.ints).toEqual(js.ints);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('codes rows to int8 the same in WebAssembly and JavaScript, bit for bit, with sound error terms', () => {
    const shape = fc.record({ rows: fc.integer({ min: 1, max: 6 }), dims: fc.integer({ min: 1, max: 40 }) });
    fc.assert(
      fc.property(
        shape.chain(({ rows, dims }) =>
          fc.record({
            rows: fc.constant(rows),
            dims: fc.constant(dims),
            values: fc.oneof(
              fc.float32Array({ minLength: rows * dims, maxLength: rows * dims }),
              fc.float32Array({ minLength: rows * dims, maxLength: rows * dims, noNaN: true, noDefaultInfinity: true, min: -1, max: 1 }),
            ),
          }),
        ),
        ({ rows, dims, values }) => {
          const stride = paddedStride(dims);
          const codes = align16(rows * stride * 4);
          const stats = codes + align16(rows * stride);
          const run = (kind: 'wasm' | 'js') => {
            const k = createKernel(stats + rows * 32, kind);
            const f32 = new Float32Array(k.buffer);
            for (let r = 0; r < rows; r++) f32.set(values.subarray(r * dims, (r + 1) * dims), r * stride);
            k.quantizeI8(0, codes, rows, stride, stats);
            return { codes: Array.from(new Int8Array(k.buffer, codes, rows * stride)), stats: Array.from(new Float64Array(k.buffer, stats, rows * 4)) };
          };
          const wasm = run('wasm');
          const js = run('js');
          expect(wasm).toEqual(js);
          for (let r = 0; r < rows; r++) {
            const [max, err, norm, normHat] = wasm.stats.slice(r * 4, r * 4 + 4) as [number, number, number, number];
            const row = Array.from(values.subarray(r * dims, (r + 1) * dims));
            if (!Number.isFinite(max)) {
              expect(row.some((v) => !Number.isFinite(v))).toBe(true);
              continue;
            }
            expect(max).toBe(Math.max(0, ...row.map(Math.abs)));
            const s = max / 127;
            const c = wasm.codes.slice(r * stride, r * stride + dims);
            c.forEach((code, i) => expect(Math.abs(code - row[i]! / (s || 1))).toBeLessThanOrEqual(s ? 0.5 + 1e-9 : 0));
            // Sums in float64 in another order: equal up to float64 rounding, relative to Σv².
            const reference = row.reduce((a, v) => a + v * v, 0);
            const close = (got: number, want: number) => expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-12 * reference);
            close(err, row.reduce((a, v, i) => a + (v - c[i]! * s) ** 2, 0));
            close(norm, reference);
            close(normHat, c.reduce((a, code) => a + (code * s) ** 2, 0));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('matches a float64 reference within float32 rounding on unit vectors', () => {
    const rand = prng(5);
    const rows = Array.from({ length: 20 }, () => unit(rand, 384));
    const q = unit(rand, 384);
    const { wasm } = runKernels(20, 384, Float32Array.from(rows.flatMap((r) => Array.from(r))), q, []);
    rows.forEach((r, i) => expect(wasm.all[i]).toBeCloseTo(r.reduce((s, v, j) => s + v * q[j]!, 0), 5));
  });
});

describe('top-k selection', () => {
  it('keeps the k best by score, ties by lower id, whatever the push order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 60 }), fc.integer({ min: 0, max: 10 }), fc.integer(), (scores, k, seed) => {
        const items = scores.map((score, id) => ({ id, score }));
        const expected = [...items].sort((a, b) => b.score - a.score || a.id - b.id).slice(0, k);
        const rand = prng(seed);
        const shuffled = [...items].sort(() => rand() - 0.5);
        const top = new TopK(k);
        shuffled.forEach((i) => top.push(i.score, i.id));
        expect(top.sorted()).toEqual(expected);
      }),
    );
  });
});

type Chunk = { memoryId: string; vector: Uint8Array<ArrayBuffer> };

/**
 * Memories of 1–4 chunks, clustered around a few centres so many scores clear minScore; the
 * tight clusters make scores differ by less than the int8 rounding error, so a first pass
 * that trusted its approximate scores (or a too small error bound) would pick wrong rows.
 */
function workspace(seed: number, memories: number, dims: number): { chunks: Chunk[]; centres: Float32Array[] } {
  const rand = prng(seed);
  const centres = Array.from({ length: 4 }, () => unit(rand, dims));
  const spreads = [0.0005, 0.003, 0.05, 0.2];
  const chunks: Chunk[] = [];
  for (let m = 0; m < memories; m++) {
    const id = `memory-${String(m).padStart(6, '0')}`;
    const n = 1 + Math.floor(rand() * 4);
    for (let c = 0; c < n; c++) {
      const cluster = Math.floor(rand() * centres.length);
      const v = unit(rand, dims, centres[cluster], spreads[cluster]! * (0.5 + rand()));
      if (rand() < 0.01) v.fill(0);
      chunks.push({ memoryId: id, vector: vectorToBytes(v) });
    }
    // An exact duplicate makes equal scores across memories.
    if (rand() < 0.05) chunks.push({ memoryId: id, vector: chunks[Math.floor(rand() * chunks.length)]!.vector });
  }
  return { chunks, centres };
}

const build = (chunks: Chunk[], dims: number, kernel: 'wasm' | 'js', quantizeFrom: number) =>
  buildMatrix(chunks, { version: 1n, model: 'm', dimensions: dims, kernel, quantizeFrom, wasmFrom: 0 });

describe('two-pass scan', () => {
  it('returns exactly the full float32 scan’s hits (ids, scores, order), in both kernels', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 30 }),
        fc.integer({ min: 1, max: 400 }),
        fc.constantFrom(8, 33, 384),
        fc.integer({ min: 1, max: 60 }),
        fc.constantFrom(-1, 0, 0.2, 0.5, 0.9),
        fc.constantFrom('none', 'half', 'few'),
        (seed, memories, dims, limit, minScore, filtered) => {
          const { chunks, centres } = workspace(seed, memories, dims);
          const exact = build(chunks, dims, 'wasm', Infinity);
          const twoPass = build(chunks, dims, 'wasm', 0);
          const js = build(chunks, dims, 'js', 0);
          expect(exact.quantized).toBeNull();
          expect(twoPass.quantized).not.toBeNull();
          expect(js.kernel.kind).toBe('js');
          expect(twoPass.kernel.kind).toBe('wasm');
          // Small workspaces stay on the JavaScript kernel by default.
          const byDefault = buildMatrix(chunks, { version: 1n, model: 'm', dimensions: dims, kernel: 'wasm', quantizeFrom: 0 });
          expect(byDefault.kernel.kind).toBe(chunks.length < 1024 ? 'js' : 'wasm');
          const rand = prng(seed + 1);
          // 'few' takes the direct path (only the filter's rows are scored).
          const allowed =
            filtered === 'half' ? new Set(exact.memoryIds.filter(() => rand() < 0.5))
            : filtered === 'few' ? new Set([...exact.memoryIds.filter(() => rand() < 2 / memories), 'memory-unknown'])
            : undefined;
          for (const vector of [centres[0]!, unit(rand, dims, centres[1], 0.3), unit(rand, dims)]) {
            const query: VectorQuery = { workspaceIds: ['w'], vector, model: 'm', limit, minScore, allowed };
            const expected = searchMatrix(exact, query);
            expect(searchMatrix(twoPass, query)).toEqual(expected);
            expect(searchMatrix(js, query)).toEqual(expected);
            expect(expected.length).toBeLessThanOrEqual(limit);
            // The filtered top-k is the unfiltered ranking's first `limit` allowed memories.
            const ranking = searchMatrix(exact, { ...query, allowed: undefined, limit: memories });
            expect(expected).toEqual(ranking.filter((h) => !allowed || allowed.has(h.memoryId)).slice(0, limit));
            for (const h of expected) {
              expect(h.score).toBeGreaterThanOrEqual(minScore);
              if (allowed) expect(allowed.has(h.memoryId)).toBe(true);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('ranks a memory by its best chunk and rescores only a small candidate set', () => {
    const dims = 384;
    const { chunks, centres } = workspace(42, 3000, dims);
    const target = unit(prng(9), dims, centres[2], 0.01);
    chunks.push({ memoryId: 'memory-zzz-best', vector: vectorToBytes(unit(prng(1), dims)) }, { memoryId: 'memory-zzz-best', vector: vectorToBytes(target) });
    const m = build(chunks, dims, 'wasm', 0);
    const hits = searchMatrix(m, { workspaceIds: ['w'], vector: target, model: 'm', limit: 10, minScore: 0.2 });
    expect(hits[0]).toEqual({ memoryId: 'memory-zzz-best', score: expect.closeTo(1, 5) });
    expect(hits).toEqual(searchMatrix(build(chunks, dims, 'wasm', Infinity), { workspaceIds: ['w'], vector: target, model: 'm', limit: 10, minScore: 0.2 }));
  });

  it('never returns an all-NaN row, and ignores a non-finite query', () => {
    const dims = 16;
    const bad = new Float32Array(dims).fill(NaN);
    const inf = new Float32Array(dims);
    inf[3] = Infinity;
    const good = unit(prng(3), dims);
    const chunks: Chunk[] = [
      { memoryId: 'a', vector: vectorToBytes(bad) },
      { memoryId: 'a', vector: vectorToBytes(good) },
      { memoryId: 'b', vector: vectorToBytes(inf) },
      { memoryId: 'c', vector: vectorToBytes(bad) },
    ];
    const results = [0, Infinity].map((quantizeFrom) => {
      const m = build(chunks, dims, 'wasm', quantizeFrom);
      expect(searchMatrix(m, { workspaceIds: ['w'], vector: bad, model: 'm', limit: 5, minScore: -1 })).toEqual([]);
      return searchMatrix(m, { workspaceIds: ['w'], vector: good, model: 'm', limit: 5, minScore: -1 });
    });
    // 'a' by its finite chunk; 'b' scores ±∞ (the same in both passes); 'c' never.
    expect(results[0]).toEqual(results[1]);
    expect(results[0]!.map((h) => h.memoryId)).toContain('a');
    expect(results[0]!.map((h) => h.memoryId)).not.toContain('c');
  });
});

for (const storage of storages()) {
  describe(`in-memory vector index on ${storage}`, () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await createTestDatabase(storage);
    });
    afterAll(() => t?.drop());

    it('loads a workspace in bulk, scans it in two passes, and catches up when the stamp moves', async () => {
      const prisma = t.db.prisma;
      const dims = 24;
      const user = await prisma.user.create({ data: { email: `vi-${storage}@test.local`, name: 'V', passwordHash: 'x' } });
      const ws = await prisma.workspace.create({ data: { id: `workspace-vi-${storage}`, name: 'V', ownerId: user.id } });
      const { chunks, centres } = workspace(11, 300, dims);
      const ids = [...new Set(chunks.map((c) => c.memoryId))];
      await prisma.memory.createMany({ data: ids.map((id) => ({ id, workspaceId: ws.id, title: id, content: id, embeddingStatus: 'ready', embeddingModel: 'm' })) });
      let index = 0;
      const perMemory = new Map<string, number>();
      await prisma.memoryChunk.createMany({
        data: chunks.map((c) => {
          const chunkIndex = perMemory.get(c.memoryId) ?? 0;
          perMemory.set(c.memoryId, chunkIndex + 1);
          return { memoryId: c.memoryId, workspaceId: ws.id, chunkIndex, content: String(index++), vector: c.vector, dimensions: dims, model: 'm' };
        }),
      });
      // Another model's chunks never take part.
      await prisma.memoryChunk.create({ data: { memoryId: ids[0]!, workspaceId: ws.id, chunkIndex: 99, content: 'x', vector: vectorToBytes(centres[0]!), dimensions: dims, model: 'other' } });

      const twoPass = new InMemoryVectorIndex(t.db, { quantizeFrom: 1, wasmFrom: 0 });
      const plain = new InMemoryVectorIndex(t.db, { kernel: 'js' });
      const query = { workspaceIds: [ws.id, 'workspace-unknown'], vector: centres[0]!, model: 'm', limit: 15, minScore: 0.1 };
      const first = await twoPass.search(query);
      expect(first).toHaveLength(15);
      expect(await plain.search(query)).toEqual(first);
      // Reference: float64 best chunk per memory over what the database holds.
      const stored = await prisma.memoryChunk.findMany({ where: { workspaceId: ws.id, model: 'm' }, select: { memoryId: true, vector: true } });
      const best = new Map<string, number>();
      for (const c of stored) {
        const v = new Float32Array(new Uint8Array(c.vector).buffer);
        const s = v.reduce((acc, x, i) => acc + x * centres[0]![i]!, 0);
        best.set(c.memoryId, Math.max(best.get(c.memoryId) ?? -Infinity, s));
      }
      const reference = [...best.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15);
      expect(first.map((h) => h.score)).toEqual(reference.map(([, s]) => expect.closeTo(s, 5)));

      // A write elsewhere (another instance) bumps the stamp: the next search sees it.
      await prisma.memory.create({ data: { id: 'memory-newest', workspaceId: ws.id, title: 'n', content: 'n', embeddingStatus: 'ready', embeddingModel: 'm' } });
      await prisma.memoryChunk.create({ data: { memoryId: 'memory-newest', workspaceId: ws.id, chunkIndex: 0, content: 'n', vector: vectorToBytes(centres[0]!), dimensions: dims, model: 'm' } });
      // The chunk write itself bumped the stamp (the change-log trigger): found at once.
      const after = await twoPass.search(query);
      expect(after[0]).toEqual({ memoryId: 'memory-newest', score: expect.closeTo(1, 5) });
      expect(await plain.search(query)).toEqual(after);
    });
  });
}
