/**
 * The memory operations behind both MCP surfaces: the legacy REST routes (/api/mcp/*,
 * L3–L9) and the MCP server's tools (/mcp). Every call is scoped to the caller (D17):
 * `conversation_id` selects that conversation's workspace, else `workspace_id`, else the
 * caller's most recently updated workspace; the policy module decides what they may do.
 * They return rows; routes/mcp.ts and mcp/server.ts present them (presenters/memory-tools.ts).
 */
import { conversationWorkspaceId } from '../../data/conversations.js';
import { countWorkspaceMemories, embeddingStatusCounts, type MemoryRow, requeueWorkspaceMemories, workspaceMemories } from '../../data/memories.js';
import { countWorkspaceChunks } from '../../data/memory-chunks.js';
import { latestWorkspaceIdOf } from '../../data/workspaces.js';
import type { Database } from '../../db/client.js';
import { badRequest, notFound } from '../../lib/errors.js';
import { authorizeOn, memory, workspace } from '../../policies/index.js';
import type { Embedder } from '../embeddings/embedder.js';
import { type SearchEngine, type SearchResult, searchMemories } from '../memories/search.js';
import { type Backlog, createMemories, createMemory, getMemory as findMemory, type NewMemory } from '../memories/service.js';

export interface Scope {
  conversation_id?: string;
  workspace_id?: string;
}

/**
 * The workspace a call addresses (D17): its conversation's (404 when there is none), else
 * `workspace_id`, else the caller's most recently updated workspace (400 when they have
 * none). Addressing only: the caller's rights there are the workspace policy's to decide.
 */
async function addressedWorkspace(db: Database, userId: string, scope: Scope): Promise<string> {
  if (scope.conversation_id) {
    const workspaceId = await conversationWorkspaceId(db.prisma, scope.conversation_id);
    if (!workspaceId) throw notFound('Conversation not found');
    return workspaceId;
  }
  if (scope.workspace_id) return scope.workspace_id;
  const latest = await latestWorkspaceIdOf(db.prisma, userId);
  if (!latest) throw badRequest('No workspace available');
  return latest;
}

/** Resolves the addressed workspace, then loads and authorizes it for the tool's action. */
const inWorkspace = async (db: Database, userId: string, scope: Scope, action: 'read-memories' | 'write-memories') =>
  (await authorizeOn(db, { id: userId }, workspace.can(action), { workspaceId: await addressedWorkspace(db, userId, scope) })).id;

export interface RememberInput extends Scope {
  text: string;
  title?: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
}

/** L3 default title: the first 50 characters of the text, plus "..." when longer. */
const defaultTitle = (text: string) => {
  const chars = Array.from(text);
  return chars.length > 50 ? `${chars.slice(0, 50).join('')}...` : text;
};

/** The memory a remembered item becomes in the workspace. */
const rememberedMemory = (workspaceId: string, userId: string, item: Omit<RememberInput, keyof Scope>): NewMemory => ({
  workspaceId,
  authorId: userId,
  title: item.title?.trim() || defaultTitle(item.text),
  content: item.text,
  tags: item.tags,
  metadata: item.metadata,
  provenance: { source: 'user', userId },
});

export async function remember(db: Database, backlog: Backlog, userId: string, input: RememberInput): Promise<MemoryRow> {
  const workspaceId = await inWorkspace(db, userId, input, 'write-memories');
  return createMemory(db.prisma, backlog, rememberedMemory(workspaceId, userId, input), { activity: false }); // §5.3: mcp/remember logs no activity
}

/** L4: the workspace is addressed and authorized once, and the items stored in one statement (D21). */
export async function rememberMany(db: Database, backlog: Backlog, userId: string, scope: Scope, items: Omit<RememberInput, keyof Scope>[]): Promise<MemoryRow[]> {
  const workspaceId = await inWorkspace(db, userId, scope, 'write-memories');
  return createMemories(db.prisma, backlog, items.map((item) => rememberedMemory(workspaceId, userId, item)));
}

export async function search(db: Database, engine: SearchEngine, userId: string, input: Scope & { query: string; top_k?: number; tags?: string[] }): Promise<SearchResult> {
  const workspaceId = await inWorkspace(db, userId, input, 'read-memories');
  return searchMemories(db, engine, { userId, workspaceIds: [workspaceId], query: input.query, topK: input.top_k ?? 5, tags: input.tags });
}

/** L6: the newest memories of the scoped workspace. */
export async function inject(db: Database, userId: string, input: Scope & { max_memories?: number }): Promise<{ workspaceId: string; memories: MemoryRow[] }> {
  const workspaceId = await inWorkspace(db, userId, input, 'read-memories');
  const memories = await workspaceMemories(db.prisma, workspaceId, { order: 'created', limit: input.max_memories ?? 10 });
  return { workspaceId, memories };
}

export interface MemoryPage {
  workspaceId: string;
  memories: MemoryRow[];
  total: number;
  limit: number;
  offset: number;
}

export async function list(db: Database, userId: string, input: Scope & { limit?: number; offset?: number }): Promise<MemoryPage> {
  const workspaceId = await inWorkspace(db, userId, input, 'read-memories');
  const limit = input.limit ?? 20;
  const offset = input.offset ?? 0;
  const [memories, total] = await Promise.all([
    workspaceMemories(db.prisma, workspaceId, { order: 'created', offset, limit }),
    countWorkspaceMemories(db.prisma, workspaceId),
  ]);
  return { workspaceId, memories, total, limit, offset };
}

export async function getMemory(db: Database, userId: string, memoryId: string): Promise<MemoryRow> {
  const subject = await authorizeOn(db, { id: userId }, memory.can('read'), { memoryId });
  return findMemory(db.prisma, subject.id);
}

/** L8: queues every memory of the workspace for re-embedding. */
export async function rebuildIndex(db: Database, backlog: Backlog, userId: string, scope: Scope): Promise<{ workspaceId: string; queued: number }> {
  const workspaceId = await inWorkspace(db, userId, scope, 'write-memories');
  const queued = await requeueWorkspaceMemories(db.prisma, workspaceId);
  backlog.nudge();
  return { workspaceId, queued };
}

export interface IndexStatus {
  workspaceId: string;
  model: Pick<Embedder, 'state' | 'modelId' | 'reason'>;
  pending: number;
  ready: number;
  failed: number;
  chunks: number;
}

/** L9: the workspace's embedding state. */
export async function indexStatus(db: Database, embedder: Pick<Embedder, 'state' | 'modelId' | 'reason'>, userId: string, scope: Scope): Promise<IndexStatus> {
  const workspaceId = await inWorkspace(db, userId, scope, 'read-memories');
  const [byStatus, chunks] = await Promise.all([embeddingStatusCounts(db.prisma, workspaceId), countWorkspaceChunks(db.prisma, workspaceId)]);
  const count = (status: string) => byStatus.get(status) ?? 0;
  const { state, modelId, reason } = embedder;
  return { workspaceId, model: { state, modelId, reason }, pending: count('pending'), ready: count('ready'), failed: count('failed'), chunks };
}
