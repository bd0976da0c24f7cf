/**
 * The memory operations behind both MCP surfaces: the legacy REST routes (/api/mcp/*,
 * L3–L9) and the MCP server's tools (/mcp). Every call is scoped to the caller (D17):
 * `conversation_id` selects that conversation's workspace, else `workspace_id`, else the
 * caller's most recently updated workspace (among an API key's workspaces); the policy
 * module decides what they may do, an API key's scopes included.
 * They return rows; routes/mcp.ts and mcp/server.ts present them (presenters/memory-tools.ts).
 */
import { conversationWorkspaceId } from '../../data/conversations.js';
import { countWorkspaceMemories, embeddingStatusCounts, type MemoryRow, requeueWorkspaceMemories, workspaceMemories } from '../../data/memories.js';
import { countWorkspaceChunks } from '../../data/memory-chunks.js';
import { latestWorkspaceIdOf, type ListedWorkspace, listPage } from '../../data/workspaces.js';
import type { Database } from '../../db/client.js';
import { badRequest, notFound } from '../../lib/errors.js';
import { account, type Actor, authorize, authorizeOn, memory, workspace, workspaceLimitOf } from '../../policies/index.js';
import type { Embedder } from '../embeddings/embedder.js';
import { type SearchEngine, type SearchResult, searchMemories } from '../memories/search.js';
import {
  type Backlog, createMemories, createMemory, deleteMemory as removeMemory, getMemory as findMemory, type MemoryPatch, type NewMemory, updateMemory as reviseMemory,
} from '../memories/service.js';

export interface Scope {
  conversation_id?: string;
  workspace_id?: string;
}

/**
 * The workspace a call addresses (D17): its conversation's (404 when there is none), else
 * `workspace_id`, else the caller's most recently updated workspace (400 when they have
 * none). Addressing only: the caller's rights there are the workspace policy's to decide.
 */
async function addressedWorkspace(db: Database, actor: Actor, scope: Scope): Promise<string> {
  if (scope.conversation_id) {
    const workspaceId = await conversationWorkspaceId(db.prisma, scope.conversation_id);
    if (!workspaceId) throw notFound('Conversation not found');
    return workspaceId;
  }
  if (scope.workspace_id) return scope.workspace_id;
  const latest = await latestWorkspaceIdOf(db.prisma, actor.id, workspaceLimitOf(actor));
  if (!latest) throw badRequest('No workspace available');
  return latest;
}

/** Resolves the addressed workspace, then loads and authorizes it for the tool's action. */
const inWorkspace = async (db: Database, actor: Actor, scope: Scope, action: 'read-memories' | 'write-memories') =>
  (await authorizeOn(db, actor, workspace.can(action), { workspaceId: await addressedWorkspace(db, actor, scope) })).id;

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

export async function remember(db: Database, backlog: Backlog, actor: Actor, input: RememberInput): Promise<MemoryRow> {
  const workspaceId = await inWorkspace(db, actor, input, 'write-memories');
  return createMemory(db.prisma, backlog, rememberedMemory(workspaceId, actor.id, input), { activity: false }); // §5.3: mcp/remember logs no activity
}

/** L4: the workspace is addressed and authorized once, and the items stored in one statement (D21). */
export async function rememberMany(db: Database, backlog: Backlog, actor: Actor, scope: Scope, items: Omit<RememberInput, keyof Scope>[]): Promise<MemoryRow[]> {
  const workspaceId = await inWorkspace(db, actor, scope, 'write-memories');
  return createMemories(db.prisma, backlog, items.map((item) => rememberedMemory(workspaceId, actor.id, item)));
}

export async function search(db: Database, engine: SearchEngine, actor: Actor, input: Scope & { query: string; top_k?: number; tags?: string[] }): Promise<SearchResult> {
  const workspaceId = await inWorkspace(db, actor, input, 'read-memories');
  return searchMemories(db, engine, { userId: actor.id, workspaceIds: [workspaceId], query: input.query, topK: input.top_k ?? 5, tags: input.tags });
}

/** L6: the newest memories of the scoped workspace. */
export async function inject(db: Database, actor: Actor, input: Scope & { max_memories?: number }): Promise<{ workspaceId: string; memories: MemoryRow[] }> {
  const workspaceId = await inWorkspace(db, actor, input, 'read-memories');
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

export async function list(db: Database, actor: Actor, input: Scope & { limit?: number; offset?: number }): Promise<MemoryPage> {
  const workspaceId = await inWorkspace(db, actor, input, 'read-memories');
  const limit = input.limit ?? 20;
  const offset = input.offset ?? 0;
  const [memories, total] = await Promise.all([
    workspaceMemories(db.prisma, workspaceId, { order: 'created', offset, limit }),
    countWorkspaceMemories(db.prisma, workspaceId),
  ]);
  return { workspaceId, memories, total, limit, offset };
}

export async function getMemory(db: Database, actor: Actor, memoryId: string): Promise<MemoryRow> {
  const subject = await authorizeOn(db, actor, memory.can('read'), { memoryId });
  return findMemory(db.prisma, subject.id);
}

/** update_memory: the given fields (a changed text is re-embedded), as M4. */
export async function updateMemory(db: Database, backlog: Backlog, actor: Actor, memoryId: string, patch: MemoryPatch): Promise<MemoryRow> {
  const subject = await authorizeOn(db, actor, memory.can('update'), { memoryId });
  return reviseMemory(db.prisma, backlog, await findMemory(db.prisma, subject.id), patch, actor);
}

/** delete_memory, as M5. */
export async function deleteMemory(db: Database, actor: Actor, memoryId: string): Promise<{ id: string; workspaceId: string }> {
  const subject = await authorizeOn(db, actor, memory.can('delete'), { memoryId });
  await removeMemory(db.prisma, subject);
  return { id: subject.id, workspaceId: subject.workspaceId };
}

/** list_workspaces: the caller's workspaces (an API key's only), newest update first, as W1 lists them. */
export async function listWorkspaces(db: Database, actor: Actor): Promise<ListedWorkspace[]> {
  authorize(actor, account.can('list-workspaces'), actor);
  return (await listPage(db, actor.id, workspaceLimitOf(actor), {}, new Date())).workspaces;
}

/** L8: queues every memory of the workspace for re-embedding. */
export async function rebuildIndex(db: Database, backlog: Backlog, actor: Actor, scope: Scope): Promise<{ workspaceId: string; queued: number }> {
  const workspaceId = await inWorkspace(db, actor, scope, 'write-memories');
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
export async function indexStatus(db: Database, embedder: Pick<Embedder, 'state' | 'modelId' | 'reason'>, actor: Actor, scope: Scope): Promise<IndexStatus> {
  const workspaceId = await inWorkspace(db, actor, scope, 'read-memories');
  const [byStatus, chunks] = await Promise.all([embeddingStatusCounts(db.prisma, workspaceId), countWorkspaceChunks(db.prisma, workspaceId)]);
  const count = (status: string) => byStatus.get(status) ?? 0;
  const { state, modelId, reason } = embedder;
  return { workspaceId, model: { state, modelId, reason }, pending: count('pending'), ready: count('ready'), failed: count('failed'), chunks };
}
