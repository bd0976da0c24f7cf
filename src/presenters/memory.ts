import type { MemoryRow, MemoryTextRow } from '../data/memories.js';
import { roundVector } from '../lib/vectors.js';
import type { Presented } from '../schemas/responses/common.js';
import type { Memory, MemoryHistory } from '../schemas/responses/memories.js';
import type { MemoryVersion as MemoryVersionRow } from '../generated/prisma/client.js';

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

/** A memory's history (newest first), each version with its provenance. */
export function presentMemoryHistory(h: { memoryId: string; deleted: boolean; versions: MemoryVersionRow[] }): Presented<typeof MemoryHistory> {
  return {
    memoryId: h.memoryId,
    deleted: h.deleted,
    versions: h.versions.map((v) => ({
      version: v.version,
      action: v.action,
      title: v.title,
      content: v.content,
      tags: v.tags,
      metadata: (v.metadata ?? {}) as Record<string, unknown>,
      provenance: presentProvenance(v.provenance),
      createdAt: v.createdAt.toISOString(),
    })),
  };
}

/** Provenance as stored: a conversation's, else a user's (versions written before provenance existed have a null user). */
function presentProvenance(p: unknown): Presented<typeof MemoryHistory>['versions'][number]['provenance'] {
  const stored = (p ?? {}) as Record<string, unknown>;
  if (stored.source === 'conversation') {
    return {
      source: 'conversation',
      conversationId: String(stored.conversationId),
      messageIds: Array.isArray(stored.messageIds) ? stored.messageIds.map(String) : [],
      model: String(stored.model),
    };
  }
  return { source: 'user', userId: typeof stored.userId === 'string' ? stored.userId : null };
}
