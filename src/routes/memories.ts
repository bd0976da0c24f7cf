/** Memories (M1–M7): load the subject → authorize through the policy → service → present. */
import type { AppDeps } from '../app-deps.js';
import type { PrismaClient } from '../db/client.js';
import { notFound } from '../http/errors.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { type Action, authorize, workspaceAccess } from '../policies/index.js';
import { createMemoryBody, listMemoriesQuery, searchMemoriesBody, updateMemoryBody } from '../schemas/memories.js';
import { searchMemories } from '../services/memories/search.js';
import { createMemory, deleteMemory, listMemories, presentMemories, presentOne, reEmbedMemory, updateMemory } from '../services/memories/service.js';

/** Loads a memory (404 `Memory not found`), then checks the caller's role in its workspace (403). */
async function memoryFor(prisma: PrismaClient, userId: string, memoryId: string, action: Action) {
  const memory = await prisma.memory.findUnique({ where: { id: memoryId } });
  if (!memory) throw notFound('Memory not found');
  authorize(await workspaceAccess(prisma, userId, memory.workspaceId), action);
  return memory;
}

async function workspaceFor(prisma: PrismaClient, userId: string, workspaceId: string, action: Action) {
  const access = await workspaceAccess(prisma, userId, workspaceId);
  authorize(access, action);
  return access.workspace;
}

export function memoryRoutes(_deps: AppDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'get', path: '/workspaces/:workspaceId/memories', operationId: 'M1', tag: 'memories', access: 'user',
      summary: 'List a workspace\'s memories (search, sortBy, tags any-of, optional limit/offset)',
      query: listMemoriesQuery,
      responses: { 403: 'Access denied', 404: 'Workspace not found' },
      handler: async ({ deps, user, params, query }) => {
        await workspaceFor(deps.prisma, user.id, params.workspaceId!, 'memory:read');
        const { memories, total } = await listMemories(deps, { workspaceId: params.workspaceId!, userId: user.id, ...query });
        return { memories: await presentMemories(deps.prisma, memories), total };
      },
    }),
    defineRoute({
      method: 'post', path: '/workspaces/:workspaceId/memories', operationId: 'M2', tag: 'memories', access: 'user', status: 201,
      summary: 'Create a memory (embedded in the background; embeddingStatus pending until then)',
      body: createMemoryBody, bodyErrors: 'fields',
      responses: { 403: 'Access denied', 404: 'Workspace not found', 413: 'Body larger than BODY_LIMIT' },
      handler: async ({ deps, user, params, body }) => {
        const workspace = await workspaceFor(deps.prisma, user.id, params.workspaceId!, 'memory:write');
        const memory = await createMemory(deps, { workspaceId: workspace.id, authorId: user.id, ...body });
        return presentOne(deps.prisma, memory);
      },
    }),
    // Registered before /memories/:memoryId so that "search" is never taken for an id (§1.1).
    defineRoute({
      method: 'post', path: '/memories/search', operationId: 'M7', tag: 'memories', access: 'user',
      summary: 'Hybrid semantic + full-text search over the memories the caller may read (D5)',
      body: searchMemoriesBody, bodyErrors: 'fields',
      responses: { 403: 'Access denied', 404: 'Workspace not found' },
      handler: async ({ deps, user, body }) => {
        const workspaceId = body.workspaceId ?? body.workspace_id;
        if (workspaceId) await workspaceFor(deps.prisma, user.id, workspaceId, 'memory:read');
        const found = await searchMemories(deps, {
          userId: user.id,
          workspaceIds: workspaceId ? [workspaceId] : undefined,
          query: body.query ?? '',
          topK: body.top_k ?? 10,
          tags: body.tags,
        });
        return {
          mode: found.mode,
          results: found.results.map(({ memory, score, matchType }) => ({
            id: memory.id,
            title: memory.title,
            content: memory.content,
            snippet: memory.snippet,
            score,
            tags: memory.tags,
            workspace_id: memory.workspaceId,
            created_at: memory.createdAt.toISOString(),
            matchType,
          })),
          total: found.results.length,
        };
      },
    }),
    defineRoute({
      method: 'get', path: '/memories/:memoryId', operationId: 'M3', tag: 'memories', access: 'user',
      summary: 'Get a memory, with its embedding (first chunk vector) once embedded',
      responses: { 403: 'Access denied', 404: 'Memory not found' },
      handler: async ({ deps, user, params }) => presentOne(deps.prisma, await memoryFor(deps.prisma, user.id, params.memoryId!, 'memory:read')),
    }),
    defineRoute({
      method: 'put', path: '/memories/:memoryId', operationId: 'M4', tag: 'memories', access: 'user',
      summary: 'Update a memory (version +1 on every PUT; changed text is re-embedded)',
      body: updateMemoryBody,
      responses: { 403: 'Access denied', 404: 'Memory not found', 413: 'Body larger than BODY_LIMIT' },
      handler: async ({ deps, user, params, body }) => {
        const memory = await memoryFor(deps.prisma, user.id, params.memoryId!, 'memory:write');
        return presentOne(deps.prisma, await updateMemory(deps, memory, body));
      },
    }),
    defineRoute({
      method: 'delete', path: '/memories/:memoryId', operationId: 'M5', tag: 'memories', access: 'user',
      summary: 'Delete a memory (its chunks and injection links go with it)',
      responses: { 403: 'Access denied', 404: 'Memory not found' },
      handler: async ({ deps, user, params }) => {
        await deleteMemory(deps, await memoryFor(deps.prisma, user.id, params.memoryId!, 'memory:write'));
        return { message: 'Memory deleted successfully' };
      },
    }),
    defineRoute({
      method: 'post', path: '/memories/:memoryId/re-embed', operationId: 'M6', tag: 'memories', access: 'user',
      summary: 'Recompute the memory\'s vectors in the background (version +1)',
      responses: { 403: 'Access denied', 404: 'Memory not found' },
      handler: async ({ deps, user, params }) => {
        const memory = await memoryFor(deps.prisma, user.id, params.memoryId!, 'memory:write');
        return presentOne(deps.prisma, await reEmbedMemory(deps, memory.id));
      },
    }),
  ];
}
