import type { MemoryRow, MemoryTextRow } from '../data/memories.js';
import { roundVector } from '../lib/vectors.js';
import type { Presented } from '../schemas/responses/common.js';
import type { Memory } from '../schemas/responses/memories.js';

export type { MemoryRow };

/**
 * Memory (§2.1). `embedding` is the first chunk's stored vector rounded to 4 decimals, or
 * null until the memory is embedded (D4); `embeddingStatus` tells clients which.
 */
export function presentMemory(m: MemoryRow, firstVector: Float32Array | null | undefined): Presented<typeof Memory> {
  return {
    id: m.id,
    workspaceId: m.workspaceId,
    title: m.title,
    content: m.content,
    snippet: m.snippet,
    tags: m.tags,
    embedding: m.embeddingStatus === 'ready' && firstVector ? roundVector(firstVector) : null,
    embeddingStatus: m.embeddingStatus,
    metadata: (m.metadata ?? {}) as Record<string, unknown>,
    version: m.version,
    createdAt: m.createdAt.toISOString(),
    updatedAt: m.updatedAt.toISOString(),
  };
}

/**
 * presentMemory serialized, from the parts PostgreSQL serialized (data/memories.ts
 * workspaceMemoryTexts): exactly JSON.stringify(presentMemory(row, firstVector)).
 */
export function presentMemoryText(m: MemoryTextRow, firstVector: Float32Array | null | undefined): string {
  const embedding = m.embeddingStatus === 'ready' && firstVector ? JSON.stringify(roundVector(firstVector)) : 'null';
  // jsonb prints with spaces; the value's own serialization has none (an empty object is the usual case).
  const metadata = m.metadata === '{}' ? '{}' : JSON.stringify(JSON.parse(m.metadata) ?? {});
  return `${m.head}${embedding},"embeddingStatus":${JSON.stringify(m.embeddingStatus)},"metadata":${metadata}${m.tail}`;
}

/** A search match (M7): the memory, its score in [0, 1] and how it matched (null for recent memories). */
export function presentSearchHit({ memory, score, matchType }: { memory: MemoryRow; score: number; matchType: string | null }) {
  return {
    id: memory.id,
    title: memory.title,
    content: memory.content,
    snippet: memory.snippet,
    score,
    tags: memory.tags,
    workspace_id: memory.workspaceId,
    created_at: memory.createdAt.toISOString(),
    matchType,
  };
}
