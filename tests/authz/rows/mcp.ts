import { newId } from '../../../src/lib/ids.js';
import { API_KEY_SCOPES } from '../../../src/policies/index.js';
import { byRole, everyone, type MatrixFixture, type MatrixRow } from '../types.js';

/** Legacy MCP routes aimed explicitly at a fresh workspace of the fixture's owner. */
const inWorkspace = async (f: MatrixFixture) => ({ workspace_id: (await f.freshWorkspace()).id });

async function conversationId(f: MatrixFixture): Promise<string> {
  const ws = await f.freshWorkspace();
  const conv = await f.app.deps.prisma.conversation.create({ data: { id: newId('conv'), workspaceId: ws.id, modelId: 'model-echo' } });
  return conv.id;
}

export const rows: MatrixRow[] = [
  { operationId: 'L1', prepare: () => ({ path: '/models' }), expect: everyone(200) },
  // The removed chat endpoint answers 410 to those who may write in the conversation.
  { operationId: 'L2', prepare: async (f) => ({ path: '/chat', body: { conversation_id: await conversationId(f), message: 'hi' } }), expect: byRole('researcher', 410), keys: { chat: 410 } },
  { operationId: 'L3', prepare: async (f) => ({ path: '/mcp/remember', body: { text: 'x', ...(await inWorkspace(f)) } }), expect: byRole('researcher', 201), keys: { 'memories:write': 201 } },
  { operationId: 'L4', prepare: async (f) => ({ path: '/mcp/batch-remember', body: { memories: [{ text: 'x' }], ...(await inWorkspace(f)) } }), expect: byRole('researcher', 201), keys: { 'memories:write': 201 } },
  { operationId: 'L5', prepare: async (f) => ({ path: '/mcp/search', body: { query: 'x', ...(await inWorkspace(f)) } }), expect: byRole('observer', 200), keys: { 'memories:read': 200 } },
  { operationId: 'L6', prepare: async (f) => ({ path: '/mcp/inject', body: await inWorkspace(f) }), expect: byRole('observer', 200), keys: { 'memories:read': 200 } },
  { operationId: 'L7', prepare: async (f) => ({ path: '/mcp/listMemories', query: await inWorkspace(f) }), expect: byRole('observer', 200), keys: { 'memories:read': 200 } },
  { operationId: 'L8', prepare: async (f) => ({ path: '/mcp/index/rebuild', body: await inWorkspace(f) }), expect: byRole('researcher', 200), keys: { 'memories:write': 200 } },
  {
    operationId: 'mcp',
    // A JSON-RPC initialize: any authenticated user may talk to the MCP server (its tools are scoped to them).
    prepare: (f, actor) => ({
      path: '/mcp',
      headers: { Accept: 'application/json, text/event-stream', ...(actor === 'anonymous' ? {} : f.sessions[actor].auth) },
      body: { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'matrix', version: '1' } } },
    }),
    expect: { anonymous: 401, stranger: 200, observer: 200, researcher: 200, admin: 200, owner: 200 },
    // Any key may connect: each tool then needs its own scope.
    keys: Object.fromEntries(API_KEY_SCOPES.map((scope) => [scope, 200])),
  },
  { operationId: 'L9', prepare: async (f) => ({ path: '/mcp/index/status', query: await inWorkspace(f) }), expect: byRole('observer', 200), keys: { 'memories:read': 200 } },
];

