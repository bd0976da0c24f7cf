/** Memories (M1–M7): the policy loads and authorizes the subject → service → present. */
import type { AppDeps } from '../app-deps.js';
import type { MemoryRow } from '../data/memories.js';
import type { Db } from '../data/sql.js';
import { sendVersioned, sendVersionedJson } from '../http/envelope.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { account, authorizeOn, memory, memoryHistory as history, workspace, workspaceLimitOf } from '../policies/index.js';
import { presentMemory, presentMemoryHistory, presentMemoryText, presentSearchHit } from '../presenters/memory.js';
import { createMemoryBody, listMemoriesQuery, searchMemoriesBody, updateMemoryBody } from '../schemas/memories.js';
import { MessageResult } from '../schemas/responses/common.js';
import { Memory, MemoryHistory, MemoryList, SearchResults } from '../schemas/responses/memories.js';
import { searchEngineOf, searchMemories } from '../services/memories/search.js';
import { memoryListVersion, pollEtag } from '../services/poll-etags.js';
import { createMemory, deleteMemory, firstVectors, getMemory, listMemoryTexts, memoryListPieces, reEmbedMemory, searchMemoryList, updateMemory } from '../services/memories/service.js';
import { MemoryListPieces } from '../services/memories/list-pieces.js';
import { memoryHistory, restoreVersion, VERSION_NOT_FOUND } from '../services/memories/versions.js';
import { notFound } from '../lib/errors.js';

/** Memories as §2.1 presents them, each with its first chunk's vector once embedded (one query for all). */
async function presented(db: Db, memories: MemoryRow[]) {
  const vectors = await firstVectors(db, memories);
  return memories.map((m) => presentMemory(m, vectors.get(m.id)));
}

const presentedOne = async (db: Db, memory: MemoryRow) => (await presented(db, [memory]))[0]!;

export function memoryRoutes(deps: AppDeps): RouteSpec[] {
  const budget = deps.config.memoryListCacheMb * 2 ** 20;
  const pieces = budget > 0 ? new MemoryListPieces(deps.db, budget, presentMemoryText) : null;
  return [
    defineRoute({
      method: 'get', path: '/workspaces/:workspaceId/memories', operationId: 'listMemories', contractId: 'M1', response: MemoryList, tag: 'memories', access: 'user', policy: workspace.can('read-memories'),
      summary: 'List a workspace\'s memories (search, sortBy, tags any-of, optional limit/offset)',
      query: listMemoriesQuery,
      responses: { 403: 'Access denied', 404: 'Workspace not found' },
      // Polled (§1.13): the ETag derives from the list's version, so a revalidation builds nothing.
      raw: true,
      preload: memoryListVersion,
      handler: async ({ deps, user, subject, query, res, preloaded }) => {
        const engine = searchEngineOf(deps);
        const search = query.search?.trim();
        // A search's matches also depend on whether this instance ranks semantically.
        const etag = pollEtag('memories', subject.id, preloaded, search ? { ...query, model: engine.embedder.modelId } : query);
        if (search) {
          await sendVersioned(res, etag, async () => {
            const { memories, total } = await searchMemoryList(deps.db, engine, { workspaceId: subject.id, userId: user.id, ...query, search });
            return { memories: await presented(deps.prisma, memories), total };
          });
          return;
        }
        // The whole list (the polled default) from the text PostgreSQL serialized, vectors filled in here.
        // A long whole list from the compressed pieces kept between polls, gzip-coded or inflated.
        await sendVersionedJson(
          res,
          etag,
          async () => {
            const { memories, total } = await listMemoryTexts(deps.db, { workspaceId: subject.id, ...query });
            const vectors = await firstVectors(deps.prisma, memories);
            return `{"memories":[${memories.map((m) => presentMemoryText(m, vectors.get(m.id))).join(',')}],"total":${total}}`;
          },
          pieces ? () => memoryListPieces(pieces, { workspaceId: subject.id, ...query }) : undefined,
        );
      },
    }),
    defineRoute({
      method: 'post', path: '/workspaces/:workspaceId/memories', operationId: 'createMemory', contractId: 'M2', response: Memory, tag: 'memories', access: 'user', policy: workspace.can('write-memories'), status: 201,
      summary: 'Create a memory (embedded in the background; embeddingStatus pending until then)',
      body: createMemoryBody, bodyErrors: 'fields',
      responses: { 403: 'Access denied', 404: 'Workspace not found', 413: 'Body larger than BODY_LIMIT' },
      handler: async ({ deps, user, subject, body }) => {
        const created = await createMemory(deps.prisma, deps.embeddings, { workspaceId: subject.id, authorId: user.id, ...body, provenance: { source: 'user', userId: user.id } });
        return presentedOne(deps.prisma, created);
      },
    }),
    // Registered before /memories/:memoryId so that "search" is never taken for an id (§1.1).
    defineRoute({
      method: 'post', path: '/memories/search', operationId: 'searchMemories', contractId: 'M7', response: SearchResults, tag: 'memories', access: 'user', policy: account.can('search-memories'),
      summary: 'Hybrid semantic + full-text search over the memories the caller may read (D5)',
      body: searchMemoriesBody, bodyErrors: 'fields',
      responses: { 403: 'Access denied', 404: 'Workspace not found' },
      handler: async ({ deps, user, body }) => {
        const workspaceId = body.workspaceId ?? body.workspace_id;
        if (workspaceId) await authorizeOn(deps.db, user, workspace.can('read-memories'), { workspaceId });
        const found = await searchMemories(deps.db, searchEngineOf(deps), {
          userId: user.id,
          // Without a workspace: every readable one, or an API key's own.
          workspaceIds: workspaceId ? [workspaceId] : (workspaceLimitOf(user) ?? undefined),
          query: body.query ?? '',
          topK: body.top_k ?? 10,
          tags: body.tags,
        });
        return { mode: found.mode, results: found.results.map(presentSearchHit), total: found.results.length };
      },
    }),
    defineRoute({
      method: 'get', path: '/memories/:memoryId', operationId: 'getMemory', contractId: 'M3', response: Memory, tag: 'memories', access: 'user', policy: memory.can('read'),
      summary: 'Get a memory, with its embedding (first chunk vector) once embedded',
      responses: { 403: 'Access denied', 404: 'Memory not found' },
      handler: async ({ deps, subject }) => presentedOne(deps.prisma, await getMemory(deps.prisma, subject.id)),
    }),
    defineRoute({
      method: 'put', path: '/memories/:memoryId', operationId: 'updateMemory', contractId: 'M4', response: Memory, tag: 'memories', access: 'user', policy: memory.can('update'),
      summary: 'Update a memory (version +1 on every PUT; changed text is re-embedded)',
      body: updateMemoryBody,
      responses: { 403: 'Access denied', 404: 'Memory not found', 413: 'Body larger than BODY_LIMIT' },
      handler: async ({ deps, user, subject, body }) => {
        const current = await getMemory(deps.prisma, subject.id);
        return presentedOne(deps.prisma, await updateMemory(deps.prisma, deps.embeddings, current, body, user));
      },
    }),
    defineRoute({
      method: 'delete', path: '/memories/:memoryId', operationId: 'deleteMemory', contractId: 'M5', response: MessageResult, tag: 'memories', access: 'user', policy: memory.can('delete'),
      summary: 'Delete a memory for good (its chunks, injection links and history go with it)',
      responses: { 403: 'Access denied', 404: 'Memory not found' },
      handler: async ({ deps, subject }) => {
        await deleteMemory(deps.prisma, subject);
        return { message: 'Memory deleted successfully' };
      },
    }),
    defineRoute({
      method: 'post', path: '/memories/:memoryId/re-embed', operationId: 'reEmbedMemory', contractId: 'M6', response: Memory, tag: 'memories', access: 'user', policy: memory.can('update'),
      summary: 'Recompute the memory\'s vectors in the background (version +1)',
      responses: { 403: 'Access denied', 404: 'Memory not found' },
      handler: async ({ deps, subject }) => presentedOne(deps.prisma, await reEmbedMemory(deps.prisma, deps.embeddings, subject.id)),
    }),
    defineRoute({
      method: 'get', path: '/memories/:memoryId/history', operationId: 'getMemoryHistory', response: MemoryHistory, tag: 'memories', access: 'user', policy: history.can('read'),
      summary: 'The versions of a memory, newest first, each with its provenance (also for a memory deleted by consolidation)',
      responses: { 403: 'Access denied', 404: 'Memory not found' },
      handler: async ({ deps, subject }) => presentMemoryHistory(await memoryHistory(deps.prisma, subject.id)),
    }),
    defineRoute({
      method: 'post', path: '/memories/:memoryId/history/:version/restore', operationId: 'restoreMemoryVersion', response: Memory, tag: 'memories', access: 'user', policy: history.can('restore'),
      summary: 'Restore a version of a memory (a memory deleted by consolidation comes back under its id); recorded as a RESTORE version',
      responses: { 403: 'Access denied', 404: 'Memory not found | Version not found' },
      handler: async ({ deps, user, subject, params }) => {
        const version = Number(params.version);
        if (!/^[1-9]\d{0,8}$/.test(params.version)) throw notFound(VERSION_NOT_FOUND);
        return presentedOne(deps.prisma, await restoreVersion(deps.prisma, deps.embeddings, subject.id, version, user.id));
      },
    }),
  ];
}
