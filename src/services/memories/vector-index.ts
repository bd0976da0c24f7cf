/**
 * Nearest-neighbour search over memory chunk vectors. The index is an interface so another
 * backend (pgvector/HNSW where the extension exists) can replace the default: an exact
 * cosine scan over one matrix per workspace, kept in memory and reloaded when the
 * workspace's index stamp (bumped in the same transaction as every chunk write, by any
 * server instance) no longer matches the version it was loaded at.
 *
 * The scan runs in two passes when the workspace is large: an int8 copy of the matrix
 * (one scale per row) against an int16 copy of the query gives every row's score within a
 * rigorous error bound; only rows whose upper bound can reach the top-k (and the minimum
 * score) are rescored in float32. The result is exactly the full float32 scan's, at a
 * quarter of the memory traffic. Both passes are WebAssembly SIMD (kernel/dot.wat), with a
 * JavaScript fallback that computes the same float32 scores.
 */
import { indexStamps } from '../../data/index-stamps.js';
import { type ChunkVectorRow, workspaceChunkVectors } from '../../data/memory-chunks.js';
import type { Database } from '../../db/client.js';
import { bytesToVector } from '../../lib/vectors.js';
import { align16, createKernel, type Kernel, type KernelKind, paddedStride } from './kernel/kernel.js';
import { TopK } from './top-k.js';

export interface VectorQuery {
  workspaceIds: string[];
  /** Unit-length query vector. */
  vector: Float32Array;
  /** Only chunks embedded by this model are comparable. */
  model: string;
  limit: number;
  minScore: number;
  /** When given, only these memories may be returned (tag filters). */
  allowed?: Set<string>;
}

/** A memory and the cosine similarity of its best chunk. */
export interface VectorHit {
  memoryId: string;
  score: number;
}

export interface VectorIndex {
  search(query: VectorQuery): Promise<VectorHit[]>;
}

export interface InMemoryVectorIndexOptions {
  /** 'js' forces the JavaScript kernel (tests compare the two). */
  kernel?: KernelKind;
  /** Workspaces with at least this many chunks get the int8 first pass (SIMD kernel only). */
  quantizeFrom?: number;
  /**
   * Workspaces with at least this many chunks use the SIMD kernel. Each WebAssembly memory
   * reserves a large range of address space, so thousands of small workspaces stay on the
   * JavaScript kernel (same scores, and fast enough at that size).
   */
  wasmFrom?: number;
}

/** Below this many rows a single float32 pass is as fast as two. */
const DEFAULT_QUANTIZE_FROM = 4096;
const DEFAULT_WASM_FROM = 1024;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The int8 first pass: per-row scale and error-bound terms. For a row v with scale s and
 * int8 codes c (v̂ = s·c) and the query q with int16 codes (q̂ = t·k):
 *   |f32dot(q, v) − s·t·(k·c)| ≤ ‖q‖·(‖v − v̂‖ + ε·‖v‖) + ‖q − q̂‖·‖v̂‖
 * by Cauchy–Schwarz, where ε bounds float32 summation error relative to ‖q‖·‖v‖.
 */
interface Quantized {
  /** Byte offset of rows × stride int8 codes. */
  codes: number;
  /** Byte offset of the int16 query codes. */
  query16: number;
  /** Largest query code: int32 sums cannot overflow (stride × 127 × queryCodeMax < 2³¹). */
  queryCodeMax: number;
  scale: Float64Array;
  /** ‖v − v̂‖ + ε·‖v‖ per row (Infinity for rows that cannot be bounded: always rescored). */
  boundQ: Float64Array;
  /** ‖v̂‖ per row. */
  boundE: Float64Array;
}

export interface WorkspaceMatrix {
  version: bigint;
  model: string;
  dimensions: number;
  stride: number;
  rows: number;
  kernel: Kernel;
  f32: Float32Array;
  i32: Int32Array;
  i16: Int16Array;
  /** Byte offsets in the kernel buffer. */
  at: { matrix: number; query: number; out: number; idx: number; rescored: number };
  quantized: Quantized | null;
  memoryIds: string[];
  /** Rows of memory j are [starts[j], starts[j + 1]) (chunks are stored grouped by memory). */
  starts: Int32Array;
}

export class InMemoryVectorIndex implements VectorIndex {
  private readonly matrices = new Map<string, WorkspaceMatrix>();
  private readonly loading = new Map<string, Promise<WorkspaceMatrix>>();
  private readonly kernelKind: KernelKind;
  private readonly quantizeFrom: number;
  private readonly wasmFrom: number;

  constructor(private readonly db: Pick<Database, 'query'>, options: InMemoryVectorIndexOptions = {}) {
    this.kernelKind = options.kernel ?? 'wasm';
    this.quantizeFrom = options.quantizeFrom ?? DEFAULT_QUANTIZE_FROM;
    this.wasmFrom = options.wasmFrom ?? DEFAULT_WASM_FROM;
  }

  async search(query: VectorQuery): Promise<VectorHit[]> {
    if (query.workspaceIds.length === 0) return [];
    const stamps = await indexStamps(this.db, query.workspaceIds);
    const matrices = await Promise.all(stamps.map((s) => this.matrix(s.workspaceId, s.version, query.model, query.vector.length)));
    const hits: VectorHit[] = [];
    for (const m of matrices) hits.push(...searchMatrix(m, query));
    if (matrices.length > 1) hits.sort((a, b) => b.score - a.score);
    return hits.slice(0, query.limit);
  }

  /** Forgets every cached matrix (tests and benchmarks measure cold loads with it). */
  clear(): void {
    this.matrices.clear();
  }

  private async matrix(workspaceId: string, version: bigint, model: string, dimensions: number): Promise<WorkspaceMatrix> {
    const cached = this.matrices.get(workspaceId);
    if (cached && cached.version === version && cached.model === model && cached.dimensions === dimensions) return cached;
    const key = `${workspaceId}\u0000${version}\u0000${model}\u0000${dimensions}`;
    let pending = this.loading.get(key);
    if (!pending) {
      pending = this.load(workspaceId, version, model, dimensions).finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return pending;
  }

  /** Reads the chunks after the stamp was read, so a concurrent write can only make it reload again. */
  private async load(workspaceId: string, version: bigint, model: string, dimensions: number): Promise<WorkspaceMatrix> {
    const chunks = await workspaceChunkVectors(this.db, workspaceId, model, dimensions);
    const loaded = buildMatrix(chunks, { version, model, dimensions, kernel: this.kernelKind, quantizeFrom: this.quantizeFrom, wasmFrom: this.wasmFrom });
    const current = this.matrices.get(workspaceId);
    if (!current || current.version <= version) this.matrices.set(workspaceId, loaded);
    return loaded;
  }
}

interface BuildOptions {
  version: bigint;
  model: string;
  dimensions: number;
  kernel: KernelKind;
  quantizeFrom: number;
  /** Default 1024 (see InMemoryVectorIndexOptions). */
  wasmFrom?: number;
}

/**
 * Lays the chunks out in one kernel buffer, grouped by memory (memories in id order, so ties
 * break the same way on every load), with the int8 copy when worth it.
 */
export function buildMatrix(chunks: ChunkVectorRow[], o: BuildOptions): WorkspaceMatrix {
  const rows = chunks.length;
  const d = o.dimensions;
  const stride = paddedStride(d);
  let bytes = 0;
  const reserve = (n: number) => {
    const at = bytes;
    bytes += align16(n);
    return at;
  };
  const at = { matrix: reserve(rows * stride * 4), query: reserve(stride * 4), out: reserve(rows * 4), idx: reserve(rows * 4), rescored: reserve(rows * 4) };
  const kind: KernelKind = o.kernel === 'wasm' && rows >= (o.wasmFrom ?? DEFAULT_WASM_FROM) ? 'wasm' : 'js';
  // The int8 pass only pays off with the SIMD kernel.
  const quantize = rows >= o.quantizeFrom && rows > 0 && kind === 'wasm';
  const codes = quantize ? reserve(rows * stride) : 0;
  const query16 = quantize ? reserve(stride * 2) : 0;
  const kernel = createKernel(Math.max(bytes, 16), kind);
  const { buffer } = kernel;
  const f32 = new Float32Array(buffer);
  const counts = new Map<string, number>();
  for (const c of chunks) counts.set(c.memoryId, (counts.get(c.memoryId) ?? 0) + 1);
  const memoryIds = [...counts.keys()].sort();
  const starts = new Int32Array(memoryIds.length + 1);
  const next = new Map<string, number>();
  memoryIds.forEach((id, j) => {
    next.set(id, starts[j]!);
    starts[j + 1] = starts[j]! + counts.get(id)!;
  });
  for (const c of chunks) {
    const row = next.get(c.memoryId)!;
    next.set(c.memoryId, row + 1);
    const base = at.matrix + row * stride * 4;
    const length = Math.min(c.vector.byteLength, d * 4) & ~3;
    if (LITTLE_ENDIAN) new Uint8Array(buffer, base, length).set(c.vector.subarray(0, length));
    else f32.set(bytesToVector(c.vector).subarray(0, d), base >> 2);
  }
  const quantized = quantize && kernel.kind === 'wasm' ? quantizeRows(f32, new Int8Array(buffer), at.matrix, codes, query16, rows, stride) : null;
  return {
    version: o.version, model: o.model, dimensions: d, stride, rows, kernel, f32, i32: new Int32Array(buffer), i16: new Int16Array(buffer, 0, buffer.byteLength >> 1),
    at, quantized, memoryIds, starts,
  };
}

function quantizeRows(f32: Float32Array, i8: Int8Array, matrix: number, codes: number, query16: number, rows: number, stride: number): Quantized {
  const scale = new Float64Array(rows);
  const boundQ = new Float64Array(rows);
  const boundE = new Float64Array(rows);
  const eps = summationError(stride);
  for (let r = 0; r < rows; r++) {
    const base = (matrix >> 2) + r * stride;
    let max = 0;
    for (let i = 0; i < stride; i++) max = Math.max(max, Math.abs(f32[base + i]!));
    const c0 = codes + r * stride;
    if (!Number.isFinite(max)) {
      // NaN/Infinity: codes stay 0 and the row is always rescored (and then never matches).
      boundQ[r] = Infinity;
      continue;
    }
    const s = max / 127;
    // Any codes within ±127 are sound (the bound is measured on the codes chosen).
    const inv = s === 0 ? 0 : 127 / max;
    let err = 0, norm = 0, normHat = 0;
    for (let i = 0; i < stride; i++) {
      const v = f32[base + i]!;
      const code = Math.round(v * inv);
      i8[c0 + i] = code;
      const hat = code * s;
      err += (v - hat) ** 2;
      norm += v * v;
      normHat += hat * hat;
    }
    scale[r] = s;
    boundQ[r] = Math.sqrt(err) + eps * Math.sqrt(norm);
    boundE[r] = Math.sqrt(normHat);
  }
  return { codes, query16, queryCodeMax: Math.min(32767, Math.floor((2 ** 31 - 1) / (127 * stride))), scale, boundQ, boundE };
}

/**
 * An upper bound on |float32 dot − exact dot| relative to ‖q‖·‖v‖ for dot.wat's order:
 * each of the 16 partial sums adds stride/16 rounded products, then four combining steps
 * (γ_n ≈ n·u, u = 2⁻²⁴), doubled for margin, plus room for the float64 bound arithmetic.
 */
const summationError = (stride: number) => 2 * (stride / 16 + 6) * 2 ** -24 + 1e-12;

/** What one scan did (the benchmark prints it). */
export interface ScanStats {
  /** Rows scored in float32: all of them in a single pass, the candidates after an int8 pass. */
  rescored: number;
}

/** The best `limit` memories of one workspace matrix with score ≥ minScore, best first. */
export function searchMatrix(m: WorkspaceMatrix, query: VectorQuery, stats?: ScanStats): VectorHit[] {
  const memories = m.memoryIds.length;
  if (m.rows === 0 || query.limit <= 0 || query.vector.length !== m.dimensions) return [];
  const { f32, at, stride, kernel } = m;
  const q0 = at.query >> 2;
  f32.fill(0, q0, q0 + stride);
  f32.set(query.vector, q0);
  let qNorm = 0;
  for (let i = 0; i < m.dimensions; i++) qNorm += f32[q0 + i]! ** 2;
  qNorm = Math.sqrt(qNorm);
  const allowedAt = (j: number) => !query.allowed || query.allowed.has(m.memoryIds[j]!);
  const top = new TopK(Math.min(query.limit, memories));

  if (!m.quantized || !(qNorm > 0) || !Number.isFinite(qNorm)) {
    kernel.dotF32(at.matrix, m.rows, stride, at.query, at.out);
    if (stats) stats.rescored = m.rows;
    const scores = f32.subarray(at.out >> 2, (at.out >> 2) + m.rows);
    for (let j = 0; j < memories; j++) {
      let best = -Infinity;
      for (let r = m.starts[j]!; r < m.starts[j + 1]!; r++) if (scores[r]! > best) best = scores[r]!;
      if (best >= query.minScore && allowedAt(j)) top.push(best, j);
    }
    return hits(m, top);
  }

  // Pass 1: int8 rows × int16 query, with a per-row error bound.
  const { codes, query16, scale, boundQ, boundE, queryCodeMax } = m.quantized;
  let qMax = 0;
  for (let i = 0; i < m.dimensions; i++) qMax = Math.max(qMax, Math.abs(f32[q0 + i]!));
  const t = qMax / queryCodeMax;
  const k0 = query16 >> 1;
  let qErr = 0;
  for (let i = 0; i < stride; i++) {
    const v = f32[q0 + i]!;
    const code = t === 0 ? 0 : Math.round(v / t);
    m.i16[k0 + i] = code;
    qErr += (v - code * t) ** 2;
  }
  qErr = Math.sqrt(qErr);
  kernel.dotI8(codes, m.rows, stride, query16, at.out);
  const ints = m.i32.subarray(at.out >> 2, (at.out >> 2) + m.rows);

  // The limit-th best lower bound among allowed memories: no memory below it can make the top-k.
  const lowers = new TopK(top.capacity);
  for (let j = 0; j < memories; j++) {
    if (!allowedAt(j)) continue;
    let best = -Infinity;
    for (let r = m.starts[j]!; r < m.starts[j + 1]!; r++) {
      const low = ints[r]! * scale[r]! * t - (qNorm * boundQ[r]! + qErr * boundE[r]!);
      if (low > best) best = low;
    }
    if (best > lowers.floor) lowers.push(best, j);
  }
  const threshold = Math.max(query.minScore, lowers.floor);

  // Pass 2: exact float32 scores of every row whose upper bound reaches the threshold.
  const idx = at.idx >> 2;
  let count = 0;
  for (let j = 0; j < memories; j++) {
    if (!allowedAt(j)) continue;
    for (let r = m.starts[j]!; r < m.starts[j + 1]!; r++) {
      const high = ints[r]! * scale[r]! * t + (qNorm * boundQ[r]! + qErr * boundE[r]!);
      if (high >= threshold) m.i32[idx + count++] = r;
    }
  }
  kernel.dotF32Rows(at.matrix, at.idx, count, stride, at.query, at.rescored);
  if (stats) stats.rescored = count;
  const exact = f32.subarray(at.rescored >> 2, (at.rescored >> 2) + count);
  let c = 0;
  while (c < count) {
    const r0 = m.i32[idx + c]!;
    const j = memoryOf(m.starts, r0);
    let best = -Infinity;
    for (; c < count && m.i32[idx + c]! < m.starts[j + 1]!; c++) if (exact[c]! > best) best = exact[c]!;
    if (best >= query.minScore) top.push(best, j);
  }
  return hits(m, top);
}

/** The memory a row belongs to (binary search over the group starts). */
function memoryOf(starts: Int32Array, row: number): number {
  let lo = 0, hi = starts.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= row) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function hits(m: WorkspaceMatrix, top: TopK): VectorHit[] {
  return top.sorted().map(({ id, score }) => ({ memoryId: m.memoryIds[id]!, score: Math.min(1, score) }));
}
