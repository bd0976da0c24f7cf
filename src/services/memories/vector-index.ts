/**
 * Nearest-neighbour search over memory chunk vectors. The index is an interface so another
 * backend (pgvector/HNSW where the extension exists) can replace the default: an exact
 * cosine scan over one matrix per workspace (matrix.ts), kept in memory within a byte budget.
 *
 * Every change to a workspace's chunks, by any server instance, bumps its index stamp and
 * logs the memories changed at that stamp version (a trigger on memory_chunks). A search reads
 * the stamps; a matrix behind its stamp catches up in place by re-reading only the changed
 * memories' chunks. A workspace not cached (never searched, or evicted as least recently
 * used when the budget is full) is loaded in one binary COPY stream.
 */
import { type IndexStamp, indexStamps } from '../../data/index-stamps.js';
import { chunkChangesWithVectors, streamWorkspaceChunkVectors } from '../../data/memory-chunks.js';
import type { Database } from '../../db/client.js';
import type { Kernel, KernelKind } from './kernel/kernel.js';
import { applyChanges, codeRows, DEFAULT_QUANTIZE_FROM, DEFAULT_WASM_FROM, loadedBytes, MatrixLoader, matrixBytes, searchMatrix, type WorkspaceMatrix } from './matrix.js';

export { applyChanges, buildMatrix, codeRows, MatrixLoader, matrixBytes, matrixContents, type ScanStats, searchMatrix, type WorkspaceMatrix } from './matrix.js';

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

/** Where the index keeps vectors, and how much of this process's memory it holds. */
export interface VectorIndexStats {
  backend: 'memory' | 'pgvector';
  /** Megabytes of vectors cached in this process (0 for pgvector: they stay in the database). */
  cachedMb: number;
  cachedWorkspaces: number;
  budgetMb: number | null;
}

export interface VectorIndex {
  search(query: VectorQuery): Promise<VectorHit[]>;
  stats(): VectorIndexStats;
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
  /** Bytes of matrices kept between searches (VECTOR_CACHE_MB); the least recently used go first. */
  budgetBytes?: number;
}

/** VECTOR_CACHE_MB's default: about 170,000 chunks of 384 dimensions. */
export const DEFAULT_VECTOR_CACHE_MB = 256;

/**
 * Past this many changed memories, re-reading them costs more than one COPY of the whole
 * workspace (row-by-row text against a binary stream).
 */
const CATCH_UP_LIMIT = 2000;

/** Values coded per slice of idle-time int8 coding: 4,096 rows of 384 dimensions. */
const CODE_SLICE_VALUES = 4096 * 384;

export class InMemoryVectorIndex implements VectorIndex {
  /** In least recently used order (a Map keeps insertion order; a use re-inserts). */
  private readonly matrices = new Map<string, WorkspaceMatrix>();
  private readonly updating = new Map<string, Promise<WorkspaceMatrix>>();
  private coding: NodeJS.Immediate | null = null;
  /** Matrices handed to searches that have not read them yet, and how many times. */
  private readonly pins = new Map<WorkspaceMatrix, number>();
  private readonly kernelKind: KernelKind;
  private readonly quantizeFrom: number;
  private readonly wasmFrom: number;
  private readonly budgetBytes: number;

  constructor(private readonly db: Pick<Database, 'query' | 'copyBinary'>, options: InMemoryVectorIndexOptions = {}) {
    this.kernelKind = options.kernel ?? 'wasm';
    this.quantizeFrom = options.quantizeFrom ?? DEFAULT_QUANTIZE_FROM;
    this.wasmFrom = options.wasmFrom ?? DEFAULT_WASM_FROM;
    this.budgetBytes = options.budgetBytes ?? DEFAULT_VECTOR_CACHE_MB * 2 ** 20;
  }

  async search(query: VectorQuery): Promise<VectorHit[]> {
    if (query.workspaceIds.length === 0) return [];
    const stamps = await indexStamps(this.db, query.workspaceIds);
    // Each matrix is pinned from the moment it is handed out until this search has read it: a
    // load for another search may evict it meanwhile, but must not lend its memory to a new one.
    const settled = await Promise.allSettled(stamps.map((s) => this.current(s, query.model, query.vector.length)));
    const matrices = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    try {
      const failed = settled.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      const hits: VectorHit[] = [];
      for (const m of matrices) hits.push(...searchMatrix(m, query));
      if (matrices.length > 1) hits.sort((a, b) => b.score - a.score || (a.memoryId < b.memoryId ? -1 : 1));
      return hits.slice(0, query.limit);
    } finally {
      for (const m of matrices) this.unpin(m);
      // A workspace larger than the whole budget is searched, then dropped.
      this.trim();
    }
  }

  stats(): VectorIndexStats {
    let bytes = 0;
    for (const m of this.matrices.values()) bytes += matrixBytes(m);
    return { backend: 'memory', cachedMb: Math.round((bytes / 2 ** 20) * 10) / 10, cachedWorkspaces: this.matrices.size, budgetMb: Math.round(this.budgetBytes / 2 ** 20) };
  }

  /** The cached matrix of a workspace, if any (tests compare it with a fresh load). */
  cached(workspaceId: string): WorkspaceMatrix | undefined {
    return this.matrices.get(workspaceId);
  }

  /** Forgets every cached matrix (tests and benchmarks measure cold loads with it). */
  clear(): void {
    this.matrices.clear();
  }

  /** Codes every cached matrix's int8 copy now (tests and benchmarks of the two-pass scan). */
  codeAll(): void {
    for (const m of this.matrices.values()) codeRows(m, Infinity);
  }

  /** The workspace's matrix at its stamp's version or later; one update at a time per workspace. */
  private async current(stamp: IndexStamp, model: string, dimensions: number): Promise<WorkspaceMatrix> {
    const { workspaceId, version } = stamp;
    for (;;) {
      const cached = this.matrices.get(workspaceId);
      if (cached && cached.version >= version && cached.model === model && cached.dimensions === dimensions) {
        this.matrices.delete(workspaceId);
        this.matrices.set(workspaceId, cached);
        return this.pin(cached);
      }
      const pending = this.updating.get(workspaceId);
      if (pending) {
        await pending.catch(() => undefined);
        continue;
      }
      const update = this.update(stamp, model, dimensions, cached).finally(() => this.updating.delete(workspaceId));
      this.updating.set(workspaceId, update);
      return this.pin(await update);
    }
  }

  private async update(stamp: IndexStamp, model: string, dimensions: number, cached: WorkspaceMatrix | undefined): Promise<WorkspaceMatrix> {
    // The cached matrix is pinned while it catches up: a load meanwhile may evict it, but must
    // not lend its memory while this update is about to change it in place.
    if (cached) this.pin(cached);
    try {
      return await this.updateFrom(stamp, model, dimensions, cached);
    } finally {
      if (cached) this.unpin(cached);
    }
  }

  private async updateFrom(stamp: IndexStamp, model: string, dimensions: number, cached: WorkspaceMatrix | undefined): Promise<WorkspaceMatrix> {
    const { workspaceId, version } = stamp;
    let next: WorkspaceMatrix | null = null;
    if (cached && cached.model === model && cached.dimensions === dimensions) {
      // Changes logged after the cached version and the changed memories' chunks, read in one
      // statement: one snapshot, so a later write is logged above the version recorded.
      const changes = await chunkChangesWithVectors(this.db, workspaceId, cached.version, model, dimensions, CATCH_UP_LIMIT);
      if (changes.memoryIds) {
        next = applyChanges(cached, changes.memoryIds, changes.chunks);
        next.version = changes.version > version ? changes.version : version;
      }
    }
    if (!next) {
      // Sized by the stamp's chunk count (every model's chunks: a bound, off only while a
      // workspace is re-embedded). Room is made first, and a matrix evicted for it that nobody
      // is reading lends its memory.
      const options = { version, model, dimensions, kernel: this.kernelKind, quantizeFrom: this.quantizeFrom, wasmFrom: this.wasmFrom };
      const spares = this.trim(workspaceId, loadedBytes(options, stamp.chunks));
      // Read after the stamp: a concurrent write can only make the next search catch up again.
      const loader = new MatrixLoader(options, stamp.chunks, spares);
      await streamWorkspaceChunkVectors(this.db, workspaceId, model, dimensions, (memoryId, source, at, length) => loader.add(memoryId, source, at, length));
      next = loader.finish();
    }
    this.matrices.delete(workspaceId);
    this.matrices.set(workspaceId, next);
    this.trim(workspaceId);
    this.scheduleCoding();
    return next;
  }

  /**
   * Codes the int8 copies that loads left uncoded, a slice at a time between other work (about
   * 4 ms each): the first searches of a fresh load scan in float32 meanwhile, with the same
   * results. Only cached matrices are coded, never one evicted (its memory may be lent).
   */
  private scheduleCoding(): void {
    if (this.coding) return;
    this.coding = setImmediate(() => {
      this.coding = null;
      for (const m of this.matrices.values()) {
        if (!codeRows(m, Math.max(256, Math.floor(CODE_SLICE_VALUES / m.stride)))) return this.scheduleCoding();
      }
    });
    this.coding.unref();
  }

  private pin(m: WorkspaceMatrix): WorkspaceMatrix {
    this.pins.set(m, (this.pins.get(m) ?? 0) + 1);
    return m;
  }

  private unpin(m: WorkspaceMatrix): void {
    const n = this.pins.get(m) ?? 0;
    if (n <= 1) this.pins.delete(m);
    else this.pins.set(m, n - 1);
  }

  /**
   * Evicts the least recently used matrices (never `keep`) until the rest, and `incoming` bytes
   * more, fit the budget. Returns the kernels of those evicted that no search is reading.
   */
  private trim(keep?: string, incoming = 0): Kernel[] {
    const freed: Kernel[] = [];
    let bytes = incoming;
    for (const m of this.matrices.values()) bytes += matrixBytes(m);
    for (const [workspaceId, m] of this.matrices) {
      if (bytes <= this.budgetBytes) break;
      if (workspaceId === keep) continue;
      this.matrices.delete(workspaceId);
      bytes -= matrixBytes(m);
      if (!this.pins.has(m)) freed.push(m.kernel);
    }
    return freed;
  }
}
