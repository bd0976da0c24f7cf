/**
 * What the legacy MCP routes (L3–L9) and the MCP server's tools answer: snake_case shapes, as
 * the original API did. Both surfaces present the same rows the same way.
 */
import type { MemoryRow } from '../data/memories.js';
import type { ListedWorkspace } from '../data/workspaces.js';
import { snippetOf } from '../lib/snippet.js';

export function presentSaved(m: MemoryRow) {
  return { id: m.id, title: m.title, status: 'saved', workspace_id: m.workspaceId, created_at: m.createdAt.toISOString() };
}

export function presentSavedMany(memories: MemoryRow[]) {
  return { created: memories.length, memories: memories.map(presentSaved) };
}

/** L5: the matches, best first (a memory stored without a snippet shows one made from its content). */
export function presentToolSearch(found: { mode: string; results: { memory: MemoryRow; score: number; matchType: string | null }[] }) {
  const results = found.results.map(({ memory, score, matchType }) => ({
    id: memory.id,
    title: memory.title,
    snippet: memory.snippet || snippetOf(memory.content),
    tags: memory.tags,
    score,
    matchType,
    workspace_id: memory.workspaceId,
    created_at: memory.createdAt.toISOString(),
  }));
  return { results, total: results.length, mode: found.mode };
}

/** L6: the memories as one context block to prepend to a prompt, and one by one. */
export function presentInjected({ workspaceId, memories }: { workspaceId: string; memories: MemoryRow[] }) {
  return {
    injected_context: memories.length ? memories.map((m) => `- ${m.title}: ${m.content}`).join('\n') : 'No memories found.',
    memory_count: memories.length,
    memories: memories.map((m) => ({ id: m.id, title: m.title, content: m.content, tags: m.tags, created_at: m.createdAt.toISOString() })),
    workspace_id: workspaceId,
  };
}

/** L7: one page of the workspace's memories. */
export function presentToolPage(page: { workspaceId: string; memories: MemoryRow[]; total: number; limit: number; offset: number }) {
  return {
    memories: page.memories.map((m) => ({ id: m.id, title: m.title, snippet: m.snippet, tags: m.tags, created_at: m.createdAt.toISOString() })),
    total: page.total,
    limit: page.limit,
    offset: page.offset,
    workspace_id: page.workspaceId,
  };
}

/** get_memory: one memory in full. */
export function presentToolMemory(m: MemoryRow) {
  return {
    id: m.id, title: m.title, content: m.content, snippet: m.snippet, tags: m.tags, metadata: m.metadata,
    version: m.version, embedding_status: m.embeddingStatus, workspace_id: m.workspaceId, created_at: m.createdAt.toISOString(),
  };
}

/** L8. */
export function presentRebuild({ workspaceId, queued }: { workspaceId: string; queued: number }) {
  return { workspace_id: workspaceId, queued, message: 'Re-embedding queued' };
}

/** L9: the model's state (a stopped embedder reads as unavailable) and the workspace's counts. */
export function presentIndexStatus(s: {
  workspaceId: string;
  model: { state: string; modelId: string | null; reason: string | null };
  pending: number;
  ready: number;
  failed: number;
  chunks: number;
}) {
  return {
    workspace_id: s.workspaceId,
    model: s.model.modelId,
    model_status: s.model.state === 'stopped' ? 'unavailable' : s.model.state,
    reason: s.model.reason,
    total: s.pending + s.ready + s.failed,
    ready: s.ready,
    pending: s.pending,
    failed: s.failed,
    chunks: s.chunks,
  };
}

/** delete_memory. */
export function presentToolDeleted(deleted: { id: string; workspaceId: string }) {
  return { id: deleted.id, status: 'deleted', workspace_id: deleted.workspaceId };
}

/** list_workspaces: what a client needs to address a workspace, and the caller's role there. */
export function presentToolWorkspaces(callerId: string, listed: ListedWorkspace[]) {
  const workspaces = listed.map(({ workspace: w, stats }) => ({
    id: w.id,
    name: w.name,
    description: w.description,
    role: w.ownerId === callerId ? 'owner' : (w.members.find((m) => m.userId === callerId)?.role ?? null),
    memory_count: stats.totalMemories,
    conversation_count: stats.totalConversations,
    updated_at: w.updatedAt.toISOString(),
  }));
  return { workspaces, total: workspaces.length };
}
