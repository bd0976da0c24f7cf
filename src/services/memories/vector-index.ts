/**
 * Nearest-neighbour search over memory chunk vectors. The index is an interface so another
 * backend (pgvector/HNSW where the extension exists) can replace the default: an exact
 * cosine scan over one Float32Array matrix per workspace, kept in memory and reloaded when
 * the workspace's index stamp (bumped in the same transaction as every chunk write, by any
 * server instance) no longer matches the version it was loaded at.
 */
import type { PrismaClient } from '../../db/client.js';
import { bytesToVector } from '../embeddings/vectors.js';

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

interface WorkspaceMatrix {
  version: bigint;
  model: string;
  dimensions: number;
  rows: number;
  /** rows × dimensions, row-major. */
  matrix: Float32Array;
  /** For each row, its index in `memoryIds`. */
  owner: Int32Array;
  memoryIds: string[];
}

export class InMemoryVectorIndex implements VectorIndex {
  private readonly matrices = new Map<string, WorkspaceMatrix>();
  private readonly loading = new Map<string, Promise<WorkspaceMatrix>>();

  constructor(private readonly prisma: PrismaClient) {}

  async search(query: VectorQuery): Promise<VectorHit[]> {
    if (query.workspaceIds.length === 0) return [];
    const stamps = await this.prisma.workspaceIndexStamp.findMany({
      where: { workspaceId: { in: query.workspaceIds } },
      select: { workspaceId: true, version: true },
    });
    const versions = new Map(stamps.map((s) => [s.workspaceId, s.version]));
    const matrices = await Promise.all(
      query.workspaceIds.filter((id) => versions.has(id)).map((id) => this.matrix(id, versions.get(id)!, query.model, query.vector.length)),
    );
    const hits: VectorHit[] = [];
    for (const m of matrices) hits.push(...bestPerMemory(m, query));
    hits.sort((a, b) => b.score - a.score);
    return hits.slice(0, query.limit);
  }

  /** Forgets every cached matrix (tests and benchmarks measure cold loads with it). */
  clear(): void {
    this.matrices.clear();
  }

  private async matrix(workspaceId: string, version: bigint, model: string, dimensions: number): Promise<WorkspaceMatrix> {
    const cached = this.matrices.get(workspaceId);
    if (cached && cached.version === version && cached.model === model && cached.dimensions === dimensions) return cached;
    const key = `${workspaceId}\u0000${version}\u0000${model}`;
    let pending = this.loading.get(key);
    if (!pending) {
      pending = this.load(workspaceId, version, model, dimensions).finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return pending;
  }

  /** Reads the chunks after the stamp was read, so a concurrent write can only make it reload again. */
  private async load(workspaceId: string, version: bigint, model: string, dimensions: number): Promise<WorkspaceMatrix> {
    const chunks = await this.prisma.memoryChunk.findMany({
      where: { workspaceId, model, dimensions },
      select: { memoryId: true, vector: true },
      orderBy: [{ memoryId: 'asc' }, { chunkIndex: 'asc' }],
    });
    const matrix = new Float32Array(chunks.length * dimensions);
    const owner = new Int32Array(chunks.length);
    const memoryIds: string[] = [];
    chunks.forEach((c, row) => {
      if (memoryIds[memoryIds.length - 1] !== c.memoryId) memoryIds.push(c.memoryId);
      owner[row] = memoryIds.length - 1;
      matrix.set(bytesToVector(c.vector).subarray(0, dimensions), row * dimensions);
    });
    const loaded = { version, model, dimensions, rows: chunks.length, matrix, owner, memoryIds };
    const current = this.matrices.get(workspaceId);
    if (!current || current.version <= version) this.matrices.set(workspaceId, loaded);
    return loaded;
  }
}

/** Exact cosine (vectors are unit length, so a dot product) of every row; best row per memory. */
function bestPerMemory(m: WorkspaceMatrix, query: VectorQuery): VectorHit[] {
  const { matrix, dimensions: d, rows, owner } = m;
  const q = query.vector;
  const best = new Float32Array(m.memoryIds.length).fill(-Infinity);
  const tail = d - (d % 4);
  for (let r = 0; r < rows; r++) {
    const base = r * d;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let i = 0; i < tail; i += 4) {
      s0 += matrix[base + i]! * q[i]!;
      s1 += matrix[base + i + 1]! * q[i + 1]!;
      s2 += matrix[base + i + 2]! * q[i + 2]!;
      s3 += matrix[base + i + 3]! * q[i + 3]!;
    }
    for (let i = tail; i < d; i++) s0 += matrix[base + i]! * q[i]!;
    const score = s0 + s1 + s2 + s3;
    const o = owner[r]!;
    if (score > best[o]!) best[o] = score;
  }
  const hits: VectorHit[] = [];
  for (let i = 0; i < best.length; i++) {
    const score = best[i]!;
    const memoryId = m.memoryIds[i]!;
    if (score >= query.minScore && (!query.allowed || query.allowed.has(memoryId))) hits.push({ memoryId, score: Math.min(1, score) });
  }
  return hits;
}
