/**
 * A real MCP server (Streamable HTTP, stateless: one server per request) at /mcp, behind
 * the same bearer authentication as /api. Its tools call the same services and policies
 * as the REST routes, scoped to the authenticated caller (D17); with an API key, each tool
 * needs its scope (remember, update_memory, delete_memory: memories:write; list_workspaces:
 * workspaces:read; the others memories:read), as the policies' `keys` tables say.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../app-deps.js';
import { AppError } from '../lib/errors.js';
import { presentInjected, presentSaved, presentToolDeleted, presentToolMemory, presentToolPage, presentToolSearch, presentToolWorkspaces } from '../presenters/memory-tools.js';
import { tagList } from '../schemas/memories.js';
import type { AuthUser } from '../services/auth/tokens.js';
import { deleteMemory, getMemory, inject, list, listWorkspaces, remember, search, updateMemory } from '../services/mcp/memory-tools.js';
import { searchEngineOf } from '../services/memories/search.js';

const scope = {
  workspace_id: z.string().max(50).optional().describe('Workspace to use (default: your most recently updated workspace)'),
  conversation_id: z.string().max(50).optional().describe('Use this conversation\'s workspace'),
};
const noNul = (s: string) => !s.includes('\u0000');

/** Runs a tool body; API errors become tool errors the model can read, not protocol failures. */
async function toolResult(run: () => Promise<unknown>) {
  try {
    const value = await run();
    return { content: [{ type: 'text' as const, text: JSON.stringify(value, null, 2) }], structuredContent: value as Record<string, unknown> };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return { isError: true, content: [{ type: 'text' as const, text: typeof error.error === 'string' ? error.error : JSON.stringify(error.error) }] };
  }
}

// The SDK is loaded with the first MCP request, not at start.
const loadSdk = () =>
  Promise.all([import('@modelcontextprotocol/sdk/server/mcp.js'), import('@modelcontextprotocol/sdk/server/streamableHttp.js')]);

export async function createMcpServer(deps: AppDeps, user: AuthUser): Promise<McpServer> {
  const [{ McpServer }] = await loadSdk();
  const server = new McpServer({ name: 'chimera-memory', version: deps.config.version });
  server.registerTool(
    'remember',
    {
      description: 'Store a memory (a fact, note or document) in a Chimera workspace; it is embedded for semantic search.',
      inputSchema: { text: z.string().min(1).refine(noNul), title: z.string().max(255).optional(), tags: tagList.optional(), ...scope },
    },
    (args) => toolResult(async () => presentSaved(await remember(deps.db, deps.embeddings, user, args))),
  );
  server.registerTool(
    'search_memories',
    {
      description: 'Search memories by meaning and keywords (hybrid semantic + full-text). Returns the best matches with scores in [0,1].',
      inputSchema: { query: z.string().min(1).refine(noNul), top_k: z.number().int().min(1).max(50).optional(), tags: tagList.optional(), ...scope },
    },
    (args) => toolResult(async () => presentToolSearch(await search(deps.db, searchEngineOf(deps), user, args))),
  );
  server.registerTool(
    'list_memories',
    {
      description: 'List the newest memories of a workspace, with paging.',
      inputSchema: { limit: z.number().int().min(1).max(100).optional(), offset: z.number().int().min(0).optional(), ...scope },
    },
    (args) => toolResult(async () => presentToolPage(await list(deps.db, user, args))),
  );
  server.registerTool(
    'get_memory',
    { description: 'Read one memory in full by its id.', inputSchema: { memory_id: z.string().min(1).max(50) } },
    (args) => toolResult(async () => presentToolMemory(await getMemory(deps.db, user, args.memory_id))),
  );
  server.registerTool(
    'inject_memories',
    {
      description: 'Get the newest memories of a workspace as one context block to prepend to a prompt.',
      inputSchema: { max_memories: z.number().int().min(1).max(50).optional(), ...scope },
    },
    (args) => toolResult(async () => presentInjected(await inject(deps.db, user, args))),
  );
  server.registerTool(
    'update_memory',
    {
      description: 'Change a memory\'s title, text, tags or metadata by its id (fields left out stay as they are); a changed text is embedded again.',
      inputSchema: {
        memory_id: z.string().min(1).max(50),
        title: z.string().min(1).max(255).refine(noNul).optional(),
        text: z.string().min(1).refine(noNul).optional(),
        tags: tagList.optional(),
        metadata: z.record(z.string(), z.unknown()).refine((v) => !JSON.stringify(v).includes('\\u0000')).optional(),
      },
    },
    ({ memory_id, text, ...patch }) =>
      toolResult(async () => presentToolMemory(await updateMemory(deps.db, deps.embeddings, user, memory_id, { ...patch, ...(text !== undefined && { content: text }) }))),
  );
  server.registerTool(
    'delete_memory',
    { description: 'Delete a memory by its id.', inputSchema: { memory_id: z.string().min(1).max(50) } },
    (args) => toolResult(async () => presentToolDeleted(await deleteMemory(deps.db, user, args.memory_id))),
  );
  server.registerTool(
    'list_workspaces',
    { description: 'List the workspaces you can use (their ids go in workspace_id), newest update first.', inputSchema: {} },
    () => toolResult(async () => presentToolWorkspaces(user.id, await listWorkspaces(deps.db, user))),
  );
  return server;
}

/** Answers one JSON-RPC POST on /mcp with a fresh server bound to the caller (stateless: no sessions). */
export async function handleMcpRequest(deps: AppDeps, user: AuthUser, req: Request, res: Response): Promise<void> {
  const server = await createMcpServer(deps, user);
  const [, { StreamableHTTPServerTransport }] = await loadSdk();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
}
