/**
 * Legacy utility and MCP routes (L1–L9). L1 stays public; everything else requires the
 * bearer token and is scoped to the caller (D17), unlike the original's AllowAny routes.
 */
import type { AppDeps } from '../app-deps.js';
import { AppError } from '../lib/errors.js';
import { requireOwnHostAndOrigin } from '../http/middleware/host-check.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { handleMcpRequest } from '../mcp/server.js';
import { account, authorizeOn, conversation } from '../policies/index.js';
import { presentIndexStatus, presentInjected, presentRebuild, presentSaved, presentSavedMany, presentToolPage, presentToolSearch } from '../presenters/memory-tools.js';
import { batchRememberBody, chatBody, injectBody, listQuery, rememberBody, scopeBody, scopeQuery, searchBody } from '../schemas/mcp.js';
import { SUPPORTED_MODELS } from '../services/providers/catalog.js';
import { indexStatus, inject, list, rebuildIndex, remember, rememberMany, search } from '../services/mcp/memory-tools.js';
import { searchEngineOf } from '../services/memories/search.js';
import { LegacyModels } from '../schemas/responses/integrations.js';
import { IndexRebuild, IndexStatus, InjectedContext, SavedMemories, SavedMemory, ToolMemoryPage, ToolSearchResults } from '../schemas/responses/memories.js';
import { McpFailure, McpRequest, McpResponse } from '../schemas/responses/utility.js';

const scoped = { 400: 'No workspace available, or invalid input', 403: 'Access denied', 404: 'Workspace or conversation not found' };

export function mcpRoutes(deps: AppDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'get', path: '/models', operationId: 'listLegacyModels', contractId: 'L1', response: LegacyModels, tag: 'legacy', access: 'public',
      summary: 'Supported model names and their providers (legacy); total is the number of models',
      handler: () => ({ models: SUPPORTED_MODELS, total: Object.keys(SUPPORTED_MODELS).length }),
    }),
    defineRoute({
      method: 'post', path: '/chat', operationId: 'legacyChat', contractId: 'L2', response: { description: 'Never: the endpoint was removed (410 names its replacement)', content: {} }, tag: 'legacy', access: 'user', policy: account.can('use-tools'), body: chatBody,
      summary: 'Removed legacy chat endpoint: 410 pointing to POST /conversations/{id}/messages',
      responses: { 403: 'Access denied', 404: 'Conversation not found', 410: 'Gone' },
      handler: async ({ deps, user, body }) => {
        await authorizeOn(deps.db, user, conversation.can('send-message'), { conversationId: body.conversation_id });
        throw new AppError(410, `This endpoint was removed. Use POST /api/conversations/${body.conversation_id}/messages`);
      },
    }),
    defineRoute({
      method: 'post', path: '/mcp/remember', operationId: 'mcpRemember', contractId: 'L3', response: SavedMemory, tag: 'mcp', access: 'user', policy: account.can('use-tools'), status: 201, body: rememberBody,
      summary: 'Store a memory in the caller\'s scoped workspace', responses: scoped,
      handler: async ({ deps, user, body }) => presentSaved(await remember(deps.db, deps.embeddings, user, body)),
    }),
    defineRoute({
      method: 'post', path: '/mcp/batch-remember', operationId: 'mcpBatchRemember', contractId: 'L4', response: SavedMemories, tag: 'mcp', access: 'user', policy: account.can('use-tools'), status: 201, body: batchRememberBody,
      summary: 'Store up to 100 memories in the caller\'s scoped workspace', responses: scoped,
      handler: async ({ deps, user, body }) => {
        const { memories, ...scope } = body;
        return presentSavedMany(await rememberMany(deps.db, deps.embeddings, user, scope, memories));
      },
    }),
    defineRoute({
      method: 'post', path: '/mcp/search', operationId: 'mcpSearch', contractId: 'L5', response: ToolSearchResults, tag: 'mcp', access: 'user', policy: account.can('use-tools'), body: searchBody,
      summary: 'Hybrid search in the caller\'s scoped workspace (top_k default 5)', responses: scoped,
      handler: async ({ deps, user, body }) => presentToolSearch(await search(deps.db, searchEngineOf(deps), user, body)),
    }),
    defineRoute({
      method: 'post', path: '/mcp/inject', operationId: 'mcpInject', contractId: 'L6', response: InjectedContext, tag: 'mcp', access: 'user', policy: account.can('use-tools'), body: injectBody,
      summary: 'The newest memories of the scoped workspace as a context block', responses: scoped,
      handler: async ({ deps, user, body }) => presentInjected(await inject(deps.db, user, body)),
    }),
    defineRoute({
      method: 'get', path: '/mcp/listMemories', operationId: 'mcpListMemories', contractId: 'L7', response: ToolMemoryPage, tag: 'mcp', access: 'user', policy: account.can('use-tools'), query: listQuery,
      summary: 'Page through the scoped workspace\'s memories (limit default 20, max 100)', responses: scoped,
      handler: async ({ deps, user, query }) => presentToolPage(await list(deps.db, user, query)),
    }),
    defineRoute({
      method: 'post', path: '/mcp/index/rebuild', operationId: 'mcpRebuildIndex', contractId: 'L8', response: IndexRebuild, tag: 'mcp', access: 'user', policy: account.can('use-tools'), body: scopeBody,
      summary: 'Queue every memory of the scoped workspace for re-embedding', responses: scoped,
      handler: async ({ deps, user, body }) => presentRebuild(await rebuildIndex(deps.db, deps.embeddings, user, body)),
    }),
    defineRoute({
      method: 'get', path: '/mcp/index/status', operationId: 'mcpIndexStatus', contractId: 'L9', response: IndexStatus, tag: 'mcp', access: 'user', policy: account.can('use-tools'), query: scopeQuery,
      summary: 'Embedding state of the scoped workspace (model, ready/pending/failed, chunks)', responses: scoped,
      handler: async ({ deps, user, query }) => presentIndexStatus(await indexStatus(deps.db, deps.embeddings.embedder, user, query)),
    }),
    defineRoute({
      method: 'post', path: '/mcp', root: true, operationId: 'mcp', tag: 'mcp', access: 'user', policy: account.can('use-tools'), raw: true,
      // Clients authenticate with a personal API key; no OAuth flow is offered, so none is advertised.
      realm: { name: 'mcp', hint: 'Send a personal API key (create one with POST /api/auth/api-keys) as Authorization: Bearer chm_...' },
      requestDoc: McpRequest,
      response: { description: 'The JSON-RPC response (or batch of responses)', content: { 'application/json': McpResponse } },
      summary: 'Model Context Protocol server (Streamable HTTP, JSON-RPC): tools remember, search_memories, list_memories, get_memory, update_memory, delete_memory, inject_memories, list_workspaces',
      description: 'JSON-RPC 2.0 over Streamable HTTP, stateless (no session id): send Accept: application/json, text/event-stream; answers are JSON. A notification alone gets 202 without a body. ' +
        'Authenticate with a personal API key (Authorization: Bearer chm_…; a session\'s access token works too): each tool needs its scope (remember, update_memory, delete_memory: memories:write; list_workspaces: workspaces:read; the others: memories:read), and a tool refused by it answers a tool error naming the scope. Without credentials: 401 with WWW-Authenticate: Bearer realm="mcp". ' +
        'DNS-rebinding protection: the Host header must name this server (HOST, localhost, 127.0.0.1, [::1] or PUBLIC_HOSTS, any port), and an Origin header, when sent, must be one of CORS_ORIGINS or the server itself; otherwise 403.',
      before: [requireOwnHostAndOrigin(deps.config)],
      responses: {
        202: { description: 'Accepted: the request held only notifications or responses (no body)', content: {} },
        400: { description: 'Malformed JSON (the error envelope), or a message that is not JSON-RPC (a JSON-RPC error)', content: { 'application/json': McpFailure } },
        403: 'Host not allowed · Origin not allowed',
        406: { description: 'The Accept header lacks application/json and text/event-stream (a JSON-RPC error)', content: { 'application/json': McpResponse } },
        415: { description: 'The body is not application/json (a JSON-RPC error), or in an encoding the server does not read (the error envelope)', content: { 'application/json': McpFailure } },
      },
      handler: ({ deps, user, req, res }) => handleMcpRequest(deps, user, req, res),
    }),
  ];
}
