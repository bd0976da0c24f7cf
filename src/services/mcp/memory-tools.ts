/**
 * The memory operations behind both MCP surfaces: the legacy REST routes (/api/mcp/*,
 * L3–L9) and the MCP server's tools (/mcp). Every call is scoped to the caller (D17):
 * `conversation_id` selects that conversation's workspace, else `workspace_id`, else the
 * caller's most recently updated workspace; the policy module decides what they may do.
 */
import type { AppDeps } from '../../app-deps.js';
import { queryValue } from '../../db/client.js';
import { Prisma } from '../../generated/prisma/client.js';
import { badRequest, notFound } from '../../http/errors.js';
import { authorizeOn, memberWorkspaceIds, memory, workspace } from '../../policies/index.js';
import type { MemoryRow } from '../../presenters/memory.js';
import { searchMemories } from '../memories/search.js';
import { createMemory, getMemory as findMemory, snippetOf } from '../memories/service.js';

export interface Scope {
  conversation_id?: string;
  workspace_id?: string;
}

/**
 * The workspace a call addresses (D17): its conversation's (404 when there is none), else
 * `workspace_id`, else the caller's most recently updated workspace (400 when they have
 * none). Addressing only: the caller's rights there are the workspace policy's to decide.
 */
async function addressedWorkspace(deps: AppDeps, userId: string, scope: Scope): Promise<string> {
  if (scope.conversation_id) {
    const conversation = await deps.prisma.conversation.findUnique({ where: { id: scope.conversation_id }, select: { workspaceId: true } });
    if (!conversation) throw notFound('Conversation not found');
    return conversation.workspaceId;
  }
  if (scope.workspace_id) return scope.workspace_id;
  const latest = await queryValue<string | null>(
    deps.db,
    Prisma.sql`SELECT w."id" FROM "workspaces" w WHERE w."id" IN (${memberWorkspaceIds(userId)}) ORDER BY w."updated_at" DESC, w."id" LIMIT 1`,
    'latest-workspace',
  );
  if (!latest) throw badRequest('No workspace available');
  return latest;
}

/** Resolves the addressed workspace, then loads and authorizes it for the tool's action. */
const inWorkspace = async (deps: AppDeps, userId: string, scope: Scope, action: 'read-memories' | 'write-memories') =>
  (await authorizeOn(deps.db, { id: userId }, workspace.can(action), { workspaceId: await addressedWorkspace(deps, userId, scope) })).id;

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

const savedShape = (m: MemoryRow) => ({ id: m.id, title: m.title, status: 'saved', workspace_id: m.workspaceId, created_at: m.createdAt.toISOString() });

export async function remember(deps: AppDeps, userId: string, input: RememberInput) {
  const workspaceId = await inWorkspace(deps, userId, input, 'write-memories');
  const memory = await createMemory(
    deps,
    { workspaceId, authorId: userId, title: input.title?.trim() || defaultTitle(input.text), content: input.text, tags: input.tags, metadata: input.metadata },
    { activity: false }, // §5.3: mcp/remember logs no activity
  );
  return savedShape(memory);
}

export async function rememberMany(deps: AppDeps, userId: string, scope: Scope, items: Omit<RememberInput, keyof Scope>[]) {
  const workspaceId = await inWorkspace(deps, userId, scope, 'write-memories');
  const memories = [];
  for (const item of items) memories.push(await remember(deps, userId, { ...item, workspace_id: workspaceId }));
  return { created: memories.length, memories };
}

export async function search(deps: AppDeps, userId: string, input: Scope & { query: string; top_k?: number; tags?: string[] }) {
  const workspaceId = await inWorkspace(deps, userId, input, 'read-memories');
  const found = await searchMemories(deps, { userId, workspaceIds: [workspaceId], query: input.query, topK: input.top_k ?? 5, tags: input.tags });
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

/** L6: the newest memories of the scoped workspace as a context block. */
export async function inject(deps: AppDeps, userId: string, input: Scope & { max_memories?: number }) {
  const workspaceId = await inWorkspace(deps, userId, input, 'read-memories');
  const rows = await deps.prisma.memory.findMany({ where: { workspaceId }, orderBy: { createdAt: 'desc' }, take: input.max_memories ?? 10 });
  return {
    injected_context: rows.length ? rows.map((m) => `- ${m.title}: ${m.content}`).join('\n') : 'No memories found.',
    memory_count: rows.length,
    memories: rows.map((m) => ({ id: m.id, title: m.title, content: m.content, tags: m.tags, created_at: m.createdAt.toISOString() })),
    workspace_id: workspaceId,
  };
}

export async function list(deps: AppDeps, userId: string, input: Scope & { limit?: number; offset?: number }) {
  const workspaceId = await inWorkspace(deps, userId, input, 'read-memories');
  const limit = input.limit ?? 20;
  const offset = input.offset ?? 0;
  const [rows, total] = await Promise.all([
    deps.prisma.memory.findMany({ where: { workspaceId }, orderBy: { createdAt: 'desc' }, skip: offset, take: limit }),
    deps.prisma.memory.count({ where: { workspaceId } }),
  ]);
  return {
    memories: rows.map((m) => ({ id: m.id, title: m.title, snippet: m.snippet, tags: m.tags, created_at: m.createdAt.toISOString() })),
    total,
    limit,
    offset,
    workspace_id: workspaceId,
  };
}

export async function getMemory(deps: AppDeps, userId: string, memoryId: string) {
  const subject = await authorizeOn(deps.db, { id: userId }, memory.can('read'), { memoryId });
  const m = await findMemory(deps.prisma, subject.id);
  return {
    id: m.id, title: m.title, content: m.content, snippet: m.snippet, tags: m.tags, metadata: m.metadata,
    version: m.version, embedding_status: m.embeddingStatus, workspace_id: m.workspaceId, created_at: m.createdAt.toISOString(),
  };
}

/** L8: queues every memory of the workspace for re-embedding. */
export async function rebuildIndex(deps: AppDeps, userId: string, scope: Scope) {
  const workspaceId = await inWorkspace(deps, userId, scope, 'write-memories');
  const queued = await deps.prisma.memory.updateMany({ where: { workspaceId }, data: { embeddingStatus: 'pending', embeddingError: null } });
  deps.embeddings.nudge();
  return { workspace_id: workspaceId, queued: queued.count, message: 'Re-embedding queued' };
}

/** L9: the workspace's embedding state. */
export async function indexStatus(deps: AppDeps, userId: string, scope: Scope) {
  const workspaceId = await inWorkspace(deps, userId, scope, 'read-memories');
  const [byStatus, chunks] = await Promise.all([
    deps.prisma.memory.groupBy({ by: ['embeddingStatus'], where: { workspaceId }, _count: { _all: true } }),
    deps.prisma.memoryChunk.count({ where: { workspaceId } }),
  ]);
  const count = (s: string) => byStatus.find((b) => b.embeddingStatus === s)?._count._all ?? 0;
  const { state, modelId, reason } = deps.embeddings.embedder;
  return {
    workspace_id: workspaceId,
    model: modelId,
    model_status: state === 'stopped' ? 'unavailable' : state,
    reason,
    total: count('pending') + count('ready') + count('failed'),
    ready: count('ready'),
    pending: count('pending'),
    failed: count('failed'),
    chunks,
  };
}
