/**
 * The Memory wire shape (§2.1) for a memory that was just created: its embedding is still
 * pending, so `embedding` is null (D4). The memory-bank presenter is the full version.
 */
export function presentNewMemory(memory: {
  id: string; workspaceId: string; title: string; content: string; snippet: string; tags: string[];
  metadata: unknown; version: number; createdAt: Date; updatedAt: Date;
}) {
  return {
    id: memory.id,
    workspaceId: memory.workspaceId,
    title: memory.title,
    content: memory.content,
    snippet: memory.snippet,
    tags: memory.tags,
    embedding: null,
    metadata: memory.metadata ?? {},
    version: memory.version,
    createdAt: memory.createdAt.toISOString(),
    updatedAt: memory.updatedAt.toISOString(),
  };
}
