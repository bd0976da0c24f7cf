/** Seeded random unit vectors for the vector index tests. */
import { replaceChunks } from '../../src/data/memory-chunks.js';
import type { PrismaClient } from '../../src/db/client.js';
import { vectorToBytes } from '../../src/lib/vectors.js';

/** A deterministic generator of numbers in [0, 1). */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 4294967296;
  };
}

/** A random unit vector of `dims` dimensions. */
export function unit(rand: () => number, dims: number): Float32Array {
  const v = Float32Array.from({ length: dims }, () => rand() * 2 - 1);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/**
 * `workspaces` workspaces owned by `ownerId` (ids `workspace-<label>-<w>`), each with `memories`
 * memories (`<workspace>-mNN`) of `chunksOf(i)` random unit chunks of `dims` dimensions under
 * model 'm', tagged `tagsOf(i)`: their ids.
 */
export async function seedVectorWorkspaces(
  prisma: PrismaClient,
  ownerId: string,
  o: { label: string; workspaces: number; memories: number; dims: number; rand: () => number; chunksOf?: (i: number) => number; tagsOf?: (i: number) => string[] },
): Promise<string[]> {
  const spaces: string[] = [];
  for (let w = 0; w < o.workspaces; w++) {
    const ws = await prisma.workspace.create({ data: { id: `workspace-${o.label}-${w}`, name: 'V', ownerId } });
    spaces.push(ws.id);
    const ids = Array.from({ length: o.memories }, (_, i) => `${ws.id}-m${String(i).padStart(2, '0')}`);
    await prisma.memory.createMany({ data: ids.map((id, i) => ({ id, workspaceId: ws.id, title: 't', content: 'c', tags: o.tagsOf?.(i) ?? [] })) });
    const chunks = ids.flatMap((id, i) =>
      Array.from({ length: o.chunksOf?.(i) ?? 1 }, (_, chunkIndex) => ({ memoryId: id, workspaceId: ws.id, chunkIndex, content: 'c', vector: vectorToBytes(unit(o.rand, o.dims)), dimensions: o.dims, model: 'm' })),
    );
    await replaceChunks(prisma, ids, chunks);
  }
  return spaces;
}
