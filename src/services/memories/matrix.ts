/**
 * One workspace's chunk vectors in memory, and the exact cosine scan over them.
 *
 * Rows live in slots of one kernel buffer with room to spare, so a write changes the matrix in
 * place: a changed memory's rows are freed and its new chunks take free slots (or the buffer is
 * copied once into a larger or compacted one). Ties break by memory id, so the results do not
 * depend on where the rows sit.
 *
 * The scan runs in two passes when the workspace is large: an int8 copy of the matrix
 * (one scale per row) against an int16 copy of the query gives every row's score within a
 * rigorous error bound; only rows whose upper bound can reach the top-k (and the minimum
 * score) are rescored in float32. The result is exactly the full float32 scan's, at a
 * quarter of the memory traffic. Both passes are WebAssembly SIMD (kernel/dot.wat), with a
 * JavaScript fallback that computes the same float32 scores.
 */
import type { ChunkVectorView } from '../../data/memory-chunks.js';
import { bytesToVector } from '../../lib/vectors.js';
import { align16, createKernel, type Kernel, KernelArena, type KernelKind, paddedStride } from './kernel/kernel.js';
import { TopK } from './top-k.js';
import type { VectorHit, VectorQuery } from './vector-index.js';

/** Below this many rows a single float32 pass is as fast as two. */
export const DEFAULT_QUANTIZE_FROM = 4096;
export const DEFAULT_WASM_FROM = 1024;
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
  /**
   * Rows [0, coded) have their codes (rows changed since are coded as they are written). The
   * int8 pass runs only once every used row is coded: a load leaves the coding to idle time.
   */
  coded: number;
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
  /** Live rows (chunks). */
  rows: number;
  /** Row slots in the buffer: room to add chunks in place. */
  capacity: number;
  /** Rows [0, used) are scanned; the free ones among them belong to no memory. */
  used: number;
  kernel: Kernel;
  f32: Float32Array;
  i32: Int32Array;
  i16: Int16Array;
  i8: Int8Array;
  /** Byte offsets in the kernel buffer. */
  at: { matrix: number; query: number; out: number; idx: number; rescored: number };
  quantized: Quantized | null;
  /** The memory slot of each row slot, −1 when free. */
  rowMemory: Int32Array;
  freeRows: number[];
  /** The memory of each memory slot ('' when free). */
  memoryIds: string[];
  rowsOf: number[][];
  slotOf: Map<string, number>;
  freeSlots: number[];
  /** Scratch of a scan: one score per memory slot. */
  best: Float64Array;
  /** Scratch of a filtered scan: one flag per memory slot (grown, never shrunk). */
  allowedScratch: Uint8Array;
  options: BuildOptions;
}

export interface BuildOptions {
  version: bigint;
  model: string;
  dimensions: number;
  kernel: KernelKind;
  quantizeFrom: number;
  /** Default 1024 (see InMemoryVectorIndexOptions). */
  wasmFrom?: number;
}

/** Room left for chunks added in place before the buffer is reallocated. */
const slack = (rows: number) => Math.max(256, rows >> 3);

/** Where the regions of a matrix with room for `capacity` rows sit in its kernel buffer (the rows first). */
function layout(o: BuildOptions, capacity: number, rows: number) {
  const stride = paddedStride(o.dimensions);
  let bytes = 0;
  const reserve = (n: number) => {
    const at = bytes;
    bytes += align16(n);
    return at;
  };
  const at = { matrix: reserve(capacity * stride * 4), query: reserve(stride * 4), out: reserve(capacity * 4), idx: reserve(capacity * 4), rescored: reserve(capacity * 4) };
  const kind: KernelKind = o.kernel === 'wasm' && rows >= (o.wasmFrom ?? DEFAULT_WASM_FROM) ? 'wasm' : 'js';
  // The int8 pass only pays off with the SIMD kernel.
  const quantize = rows >= o.quantizeFrom && rows > 0 && kind === 'wasm';
  const codes = quantize ? reserve(capacity * stride) : 0;
  const query16 = quantize ? reserve(stride * 2) : 0;
  return { stride, at, kind, quantize, codes, query16, bytes: Math.max(bytes, 16) };
}

/** A matrix over `kernel` laid out by `l`, with no rows yet. */
function assemble(o: BuildOptions, capacity: number, l: ReturnType<typeof layout>, kernel: Kernel): WorkspaceMatrix {
  const { buffer } = kernel;
  const quantized: Quantized | null =
    l.quantize && kernel.kind === 'wasm'
      ? {
          codes: l.codes,
          query16: l.query16,
          queryCodeMax: Math.min(32767, Math.floor((2 ** 31 - 1) / (127 * l.stride))),
          coded: 0,
          scale: new Float64Array(capacity),
          boundQ: new Float64Array(capacity),
          boundE: new Float64Array(capacity),
        }
      : null;
  return {
    version: o.version, model: o.model, dimensions: o.dimensions, stride: l.stride, rows: 0, capacity, used: 0, kernel,
    f32: new Float32Array(buffer), i32: new Int32Array(buffer), i16: new Int16Array(buffer, 0, buffer.byteLength >> 1), i8: new Int8Array(buffer),
    at: l.at, quantized, rowMemory: new Int32Array(capacity).fill(-1), freeRows: [], memoryIds: [], rowsOf: [], slotOf: new Map(), freeSlots: [],
    best: new Float64Array(16), allowedScratch: new Uint8Array(0), options: o,
  };
}

/** A matrix with room for `capacity` rows, the kernel and the int8 pass chosen for `rows` live ones. */
function allocate(o: BuildOptions, capacity: number, rows: number): WorkspaceMatrix {
  const l = layout(o, capacity, rows);
  return assemble(o, capacity, l, createKernel(l.bytes, l.kind));
}

/**
 * Builds a matrix from a stream of chunks without holding them: each vector is copied once,
 * from the received bytes to its row of the kernel buffer. Rows sit in arrival order (ties
 * break by memory id, so the order changes no result). With a size hint (the stamp's chunk
 * count) the final layout is made up front, in one growth of the buffer; without one (or past
 * it) the buffer grows as rows arrive. The int8 copy is left uncoded (codeRows): a search can
 * use the float32 scan at once, and the index codes it in idle time.
 */
export class MatrixLoader {
  private readonly arena: KernelArena;
  private readonly rowBytes: number;
  private readonly vectorBytes: number;
  private bytes: Uint8Array;
  private rowMemory: Int32Array = new Int32Array(1024);
  private rows = 0;
  private readonly memoryIds: string[] = [];
  private readonly rowsOf: number[][] = [];
  private readonly slotOf = new Map<string, number>();
  private lastId: string | null = null;
  private lastSlot = -1;
  /** The matrix laid out for the size hint, until rows overflow it. */
  private laidOut: WorkspaceMatrix | null = null;

  /**
   * `expectedRows`: about how many chunks will come. Each growth of WebAssembly memory is
   * reported to the engine as external memory and sets off a garbage collection (bench
   * `cold load 100k`).
   */
  constructor(private readonly o: BuildOptions, expectedRows = 0, spares: Kernel[] = []) {
    const capacity = expectedRows > 0 ? expectedRows + slack(expectedRows) : 0;
    const l = layout(o, capacity, expectedRows);
    // The memory of a matrix evicted for this one, when as large and not much larger.
    const spare = capacity > 0 ? spares.find((k) => k.kind === 'wasm' && k.buffer.byteLength >= l.bytes && k.buffer.byteLength <= l.bytes * 1.25 + 2 ** 20) : undefined;
    this.arena = new KernelArena(o.kernel, spare);
    this.rowBytes = paddedStride(o.dimensions) * 4;
    this.vectorBytes = o.dimensions * 4;
    // Pages reserved are not resident until written; past 2 GiB the hint is not trusted. Only
    // for the SIMD kernel's own memory (the JavaScript one copies its buffer at the end).
    if (capacity > 0 && l.kind === 'wasm' && l.bytes <= 2 ** 31) {
      this.arena.reserve(l.bytes);
      const kernel = this.arena.kernel(l.bytes, l.kind);
      if (kernel.buffer === this.arena.buffer) {
        this.laidOut = assemble(o, capacity, l, kernel);
        this.rowMemory = this.laidOut.rowMemory;
      }
    }
    this.bytes = new Uint8Array(this.arena.buffer);
  }

  /** Adds one chunk of `memoryId`: its vector is `source[at, at + length)` (little-endian float32). */
  add(memoryId: string, source: Uint8Array, at: number, length: number): void {
    const r = this.rows++;
    const base = r * this.rowBytes;
    if (this.laidOut && r >= this.laidOut.capacity) this.overflow();
    if (base + this.rowBytes > this.bytes.length) {
      // By half (at least 1 MiB): WebAssembly memory never shrinks and the cache budget counts
      // all of it, so not by doubling (up to 1.4 times the matrix's needs); each growth costs
      // about as much as a doubling (bench: growing by an eighth doubled the build's CPU).
      this.arena.reserve(Math.max(base + this.rowBytes, 2 ** 20, Math.floor(this.bytes.length * 1.5)));
      this.bytes = new Uint8Array(this.arena.buffer);
    }
    if (r >= this.rowMemory.length) {
      const next = new Int32Array(this.rowMemory.length * 2);
      next.set(this.rowMemory);
      this.rowMemory = next;
    }
    let slot = this.lastSlot;
    if (memoryId !== this.lastId) {
      slot = this.slotOf.get(memoryId) ?? -1;
      if (slot < 0) {
        slot = this.memoryIds.length;
        this.memoryIds.push(memoryId);
        this.rowsOf.push([]);
        this.slotOf.set(memoryId, slot);
      }
      this.lastId = memoryId;
      this.lastSlot = slot;
    }
    this.rowMemory[r] = slot;
    this.rowsOf[slot]!.push(r);
    // The arena is zeroed: a short vector leaves zeros, as does the padding.
    const n = Math.min(length, this.vectorBytes) & ~3;
    if (LITTLE_ENDIAN) this.bytes.set(source.subarray(at, at + n), base);
    else {
      const from = new DataView(source.buffer, source.byteOffset + at, n);
      const to = new DataView(this.bytes.buffer, base, n);
      for (let i = 0; i < n; i += 4) to.setFloat32(i, from.getFloat32(i, true), false);
    }
  }

  /** The matrix of every chunk added, with room to spare for changes in place. */
  finish(): WorkspaceMatrix {
    const rows = this.rows;
    let m = this.laidOut;
    if (!m) {
      const capacity = rows + slack(rows);
      const l = layout(this.o, capacity, rows);
      m = assemble(this.o, capacity, l, this.arena.kernel(l.bytes, l.kind));
    }
    m.rowMemory.set(this.rowMemory.subarray(0, rows));
    m.rows = m.used = rows;
    m.memoryIds = this.memoryIds;
    m.rowsOf = this.rowsOf;
    m.slotOf = this.slotOf;
    m.best = new Float64Array(Math.max(16, this.memoryIds.length * 2));
    return m;
  }

  /** More rows than the hint: back to growing as rows arrive, the layout made at the end. */
  private overflow(): void {
    const rowMemory = new Int32Array(Math.max(1024, this.rows * 2));
    rowMemory.set(this.rowMemory.subarray(0, this.rows - 1));
    this.rowMemory = rowMemory;
    // Rows go on past the laid-out ones, over the scratch and int8 regions: zeroed again, as the
    // padding of a short vector relies on.
    this.bytes.fill(0, this.laidOut!.capacity * this.rowBytes);
    this.laidOut = null;
  }
}

/**
 * Codes up to `maxRows` more rows of the matrix's int8 copy, in order; true once every used row
 * is coded (or the matrix has no int8 pass).
 */
export function codeRows(m: WorkspaceMatrix, maxRows: number): boolean {
  const q = m.quantized;
  if (!q) return true;
  const to = Math.min(m.used, q.coded + maxRows);
  if (to > q.coded) quantizeRows(m, q.coded, to);
  q.coded = Math.max(q.coded, to);
  return q.coded >= m.used;
}

/** About the bytes a matrix of `rows` rows will hold once loaded (what the cache budget will count): the index makes room before a load. */
export function loadedBytes(o: BuildOptions, rows: number): number {
  const capacity = rows + slack(rows);
  const l = layout(o, capacity, rows);
  return l.bytes + capacity * (4 + (l.quantize ? 24 : 0)) + rows * 16;
}

/** Bytes a matrix holds (what the cache budget counts). */
export function matrixBytes(m: WorkspaceMatrix): number {
  return m.kernel.buffer.byteLength + m.capacity * (4 + (m.quantized ? 24 : 0)) + m.best.byteLength + m.memoryIds.length * 96;
}

const byKey = <T>(a: [string, T], b: [string, T]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** Vectors grouped by memory, memories in id order (the same layout on every load). */
function byMemory(chunks: Iterable<ChunkVectorView>): [string, Uint8Array[]][] {
  const groups = new Map<string, Uint8Array[]>();
  for (const c of chunks) {
    const list = groups.get(c.memoryId);
    if (list) list.push(c.vector);
    else groups.set(c.memoryId, [c.vector]);
  }
  return [...groups.entries()].sort(byKey);
}

/** Lays the chunks out in one kernel buffer, in their order, with the int8 copy when worth it. */
export function buildMatrix(chunks: ChunkVectorView[], o: BuildOptions): WorkspaceMatrix {
  const loader = new MatrixLoader(o);
  for (const c of chunks) loader.add(c.memoryId, c.vector, 0, c.vector.byteLength);
  const m = loader.finish();
  codeRows(m, Infinity);
  return m;
}

/**
 * Applies a change set: every chunk of `memoryIds` is replaced by theirs in `chunks` (a memory
 * with none left is gone). Changes the matrix in place and returns it, or returns a compacted
 * or larger copy when the free room does not fit the change.
 */
export function applyChanges(m: WorkspaceMatrix, memoryIds: string[], chunks: ChunkVectorView[]): WorkspaceMatrix {
  const added = byMemory(chunks);
  for (const id of memoryIds) removeMemory(m, id);
  for (const [id] of added) removeMemory(m, id);
  const room = m.freeRows.length + m.capacity - m.used;
  // Too little room, or mostly holes: one copy of the live rows into a right-sized buffer.
  if (chunks.length > room || m.freeRows.length > Math.max(4096, m.used >> 1)) return rebuild(m, added);
  for (const [memoryId, vectors] of added) addMemory(m, memoryId, vectors);
  return m;
}

function rebuild(m: WorkspaceMatrix, added: [string, Uint8Array[]][]): WorkspaceMatrix {
  const rows = m.rows + added.reduce((n, [, v]) => n + v.length, 0);
  const next = allocate({ ...m.options, version: m.version }, rows + slack(rows), rows);
  const live: [string, number | Uint8Array[]][] = [];
  m.memoryIds.forEach((id, slot) => id && live.push([id, slot]));
  live.push(...added);
  for (const [memoryId, source] of live.sort(byKey)) {
    if (typeof source !== 'number') {
      addMemory(next, memoryId, source);
      continue;
    }
    const slot = takeSlot(next, memoryId);
    for (const from of m.rowsOf[source]!) copyRow(m, from, next, takeRow(next, slot));
  }
  // Every row was coded or copied with its codes.
  if (next.quantized) next.quantized.coded = next.used;
  return next;
}

function removeMemory(m: WorkspaceMatrix, memoryId: string): void {
  const slot = m.slotOf.get(memoryId);
  if (slot === undefined) return;
  for (const r of m.rowsOf[slot]!) {
    m.rowMemory[r] = -1;
    m.freeRows.push(r);
  }
  m.rows -= m.rowsOf[slot]!.length;
  m.rowsOf[slot] = [];
  m.memoryIds[slot] = '';
  m.slotOf.delete(memoryId);
  m.freeSlots.push(slot);
}

function takeSlot(m: WorkspaceMatrix, memoryId: string): number {
  const slot = m.freeSlots.pop() ?? m.memoryIds.length;
  m.memoryIds[slot] = memoryId;
  m.rowsOf[slot] = [];
  m.slotOf.set(memoryId, slot);
  if (m.best.length < m.memoryIds.length) m.best = new Float64Array(Math.max(16, m.memoryIds.length * 2));
  return slot;
}

/** A row slot for memory `slot`: a freed one first, so the scanned range stays short. */
function takeRow(m: WorkspaceMatrix, slot: number): number {
  const r = m.freeRows.pop() ?? m.used++;
  m.rowMemory[r] = slot;
  m.rowsOf[slot]!.push(r);
  m.rows++;
  return r;
}

function addMemory(m: WorkspaceMatrix, memoryId: string, vectors: Uint8Array[]): void {
  const slot = takeSlot(m, memoryId);
  for (const vector of vectors) {
    const r = takeRow(m, slot);
    writeRow(m, r, vector);
    if (m.quantized) {
      quantizeRow(m, r);
      if (m.quantized.coded === r) m.quantized.coded = r + 1; // appended to a coded matrix: still whole
    }
  }
}

function writeRow(m: WorkspaceMatrix, r: number, vector: Uint8Array): void {
  const base = m.at.matrix + r * m.stride * 4;
  m.f32.fill(0, base >> 2, (base >> 2) + m.stride);
  const length = Math.min(vector.byteLength, m.dimensions * 4) & ~3;
  if (LITTLE_ENDIAN) new Uint8Array(m.kernel.buffer, base, length).set(vector.subarray(0, length));
  else m.f32.set(bytesToVector(vector).subarray(0, m.dimensions), base >> 2);
}

function copyRow(from: WorkspaceMatrix, r: number, to: WorkspaceMatrix, t: number): void {
  const s = from.stride;
  const a = (from.at.matrix >> 2) + r * s;
  to.f32.set(from.f32.subarray(a, a + s), (to.at.matrix >> 2) + t * s);
  const q = to.quantized;
  const p = from.quantized;
  if (!q) return;
  if (!p || r >= p.coded) return quantizeRow(to, t);
  new Int8Array(to.kernel.buffer, q.codes + t * s, s).set(new Int8Array(from.kernel.buffer, p.codes + r * s, s));
  q.scale[t] = p.scale[r]!;
  q.boundQ[t] = p.boundQ[r]!;
  q.boundE[t] = p.boundE[r]!;
}

/** Row r's int8 codes, scale and error-bound terms. */
function quantizeRow(m: WorkspaceMatrix, r: number): void {
  quantizeRows(m, r, r + 1);
}

/**
 * Rows [from, to)'s int8 codes, scales and error-bound terms: the kernel codes the rows and
 * sums the squares (kernel.quantizeI8) in batches, its figures written over the scan's scratch
 * regions (out, idx, rescored: 12 bytes a row slot, unused between searches).
 */
function quantizeRows(m: WorkspaceMatrix, from: number, to: number): void {
  const q = m.quantized!;
  const { stride, kernel } = m;
  const epsilon = summationError(stride);
  // Batches of at most 1024 rows also let the engine move the kernel to its optimizing tier early.
  const batch = Math.max(1, Math.min(1024, Math.floor((m.capacity * 12) / 32)));
  const stats = new Float64Array(kernel.buffer, m.at.out, batch * 4);
  for (let start = from; start < to; start += batch) {
    const n = Math.min(batch, to - start);
    kernel.quantizeI8(m.at.matrix + start * stride * 4, q.codes + start * stride, n, stride, m.at.out);
    for (let i = 0; i < n; i++) {
      const r = start + i;
      const max = stats[i * 4]!;
      if (!Number.isFinite(max)) {
        // NaN/Infinity: codes 0 and the row is always rescored (and then never matches).
        q.scale[r] = 0;
        q.boundQ[r] = Infinity;
        q.boundE[r] = 0;
        continue;
      }
      // Any codes within ±127 are sound (the bound is measured on the codes chosen).
      q.scale[r] = max / 127;
      q.boundQ[r] = Math.sqrt(stats[i * 4 + 1]!) + epsilon * Math.sqrt(stats[i * 4 + 2]!);
      q.boundE[r] = Math.sqrt(stats[i * 4 + 3]!);
    }
  }
}

/** Each memory's chunk vectors (tests compare an updated matrix with a fresh load). */
export function matrixContents(m: WorkspaceMatrix): Map<string, Float32Array[]> {
  const out = new Map<string, Float32Array[]>();
  m.memoryIds.forEach((id, slot) => {
    if (!id) return;
    const row = (r: number) => (m.at.matrix >> 2) + r * m.stride;
    out.set(id, m.rowsOf[slot]!.map((r) => m.f32.slice(row(r), row(r) + m.dimensions)));
  });
  return out;
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

/**
 * A filter whose memories hold at most this share of the rows is scored directly: only its rows,
 * in float32 (a tag filter on a few memories, a poll for one just written).
 */
const DIRECT_SHARE = 1 / 16;

/** The best `limit` memories of one workspace matrix with score ≥ minScore, best first. */
export function searchMatrix(m: WorkspaceMatrix, query: VectorQuery, stats?: ScanStats): VectorHit[] {
  const memories = m.memoryIds.length;
  if (m.rows === 0 || query.limit <= 0 || query.vector.length !== m.dimensions) return [];
  const { f32, at, stride, kernel, rowMemory, best, used } = m;
  const q0 = at.query >> 2;
  f32.fill(0, q0, q0 + stride);
  f32.set(query.vector, q0);
  const ids = m.memoryIds;
  const top = new TopK(Math.min(query.limit, m.slotOf.size), (a, b) => (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0));
  best.fill(-Infinity, 0, memories);
  const idx = at.idx >> 2;

  // One flag per memory slot, only with a filter (free slots' rows are −1 in rowMemory).
  let allowed: Uint8Array | null = null;
  if (query.allowed) {
    if (m.allowedScratch.length < memories) m.allowedScratch = new Uint8Array(Math.max(16, memories * 2));
    allowed = m.allowedScratch;
    allowed.fill(0, 0, memories);
    let rows = 0;
    for (const id of query.allowed) {
      const slot = m.slotOf.get(id);
      if (slot === undefined || allowed[slot]) continue;
      allowed[slot] = 1;
      rows += m.rowsOf[slot]!.length;
    }
    if (rows <= used * DIRECT_SHARE) {
      // Few rows: their float32 scores alone, the same numbers the full scans compute.
      let count = 0;
      for (let j = 0; j < memories; j++) if (allowed[j]) for (const r of m.rowsOf[j]!) m.i32[idx + count++] = r;
      kernel.dotF32Rows(at.matrix, at.idx, count, stride, at.query, at.rescored);
      if (stats) stats.rescored = count;
      const exact = f32.subarray(at.rescored >> 2, (at.rescored >> 2) + count);
      for (let c = 0; c < count; c++) {
        const j = rowMemory[m.i32[idx + c]!]!;
        if (exact[c]! > best[j]!) best[j] = exact[c]!;
      }
      for (let j = 0; j < memories; j++) if (allowed[j] && best[j]! >= query.minScore) top.push(best[j]!, j);
      return hits(m, top);
    }
  }

  let qNorm = 0;
  for (let i = 0; i < m.dimensions; i++) qNorm += f32[q0 + i]! ** 2;
  qNorm = Math.sqrt(qNorm);
  if (!m.quantized || m.quantized.coded < used || !(qNorm > 0) || !Number.isFinite(qNorm)) {
    kernel.dotF32(at.matrix, used, stride, at.query, at.out);
    if (stats) stats.rescored = m.rows;
    const scores = f32.subarray(at.out >> 2, (at.out >> 2) + used);
    for (let r = 0; r < used; r++) {
      const j = rowMemory[r]!;
      if (j >= 0 && scores[r]! > best[j]!) best[j] = scores[r]!;
    }
    for (let j = 0; j < memories; j++) if ((allowed ? allowed[j] : ids[j]) && best[j]! >= query.minScore) top.push(best[j]!, j);
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
  kernel.dotI8(codes, used, stride, query16, at.out);
  const ints = m.i32.subarray(at.out >> 2, (at.out >> 2) + used);

  // The limit-th best lower bound among allowed memories: no memory below it can make the top-k.
  // (Two copies of each loop: without a filter, a row's memory is live whenever it is ≥ 0.)
  if (allowed) {
    for (let r = 0; r < used; r++) {
      const j = rowMemory[r]!;
      if (j < 0 || !allowed[j]) continue;
      const low = ints[r]! * scale[r]! * t - (qNorm * boundQ[r]! + qErr * boundE[r]!);
      if (low > best[j]!) best[j] = low;
    }
  } else {
    for (let r = 0; r < used; r++) {
      const j = rowMemory[r]!;
      if (j < 0) continue;
      const low = ints[r]! * scale[r]! * t - (qNorm * boundQ[r]! + qErr * boundE[r]!);
      if (low > best[j]!) best[j] = low;
    }
  }
  const lowers = new TopK(top.capacity);
  for (let j = 0; j < memories; j++) if (best[j]! > lowers.floor) lowers.push(best[j]!, j);
  const threshold = Math.max(query.minScore, lowers.floor);

  // Pass 2: exact float32 scores of every row whose upper bound reaches the threshold.
  let count = 0;
  for (let r = 0; r < used; r++) {
    const j = rowMemory[r]!;
    if (j < 0 || (allowed && !allowed[j])) continue;
    const high = ints[r]! * scale[r]! * t + (qNorm * boundQ[r]! + qErr * boundE[r]!);
    if (high >= threshold) m.i32[idx + count++] = r;
  }
  kernel.dotF32Rows(at.matrix, at.idx, count, stride, at.query, at.rescored);
  if (stats) stats.rescored = count;
  const exact = f32.subarray(at.rescored >> 2, (at.rescored >> 2) + count);
  best.fill(-Infinity, 0, memories);
  for (let c = 0; c < count; c++) {
    const j = rowMemory[m.i32[idx + c]!]!;
    if (exact[c]! > best[j]!) best[j] = exact[c]!;
  }
  for (let c = 0; c < count; c++) {
    const j = rowMemory[m.i32[idx + c]!]!;
    if (best[j]! >= query.minScore) top.push(best[j]!, j);
    best[j] = -Infinity; // each memory once
  }
  return hits(m, top);
}

function hits(m: WorkspaceMatrix, top: TopK): VectorHit[] {
  return top.sorted().map(({ id, score }) => ({ memoryId: m.memoryIds[id]!, score: Math.min(1, score) }));
}
