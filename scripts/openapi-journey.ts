/**
 * A journey through every operation of the API, as a client would make it (real ids, real
 * tokens), for checking third-party tools against the server: scripts/check-openapi-tools.ts
 * runs it through a Prism proxy and collects the ids Newman's collection runs with.
 * `startStack()` starts the real server entry on a fresh PGlite database, with local stand-ins
 * for the LLM providers and a local page to import.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeProviders } from '../tests/support/fake-providers.js';

const root = new URL('..', import.meta.url).pathname;

export interface Exchange {
  method: string;
  path: string;
  status: number;
  headers: Headers;
  text: string;
}

export interface Stack {
  origin: string;
  pageUrl: string;
  stop(): Promise<void>;
}

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

export async function startStack(): Promise<Stack> {
  const providers = await startFakeProviders();
  const page = createServer((_req, res) => {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(`<html><head><title>Launch plan</title></head><body><article><h1>Launch plan</h1>${'<p>We launch the rocket on Friday after the final review of every system on board.</p>'.repeat(5)}</article></body></html>`);
  });
  const pageOrigin = await listen(page);
  const dataDir = mkdtempSync(join(tmpdir(), 'chimera-journey-'));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'development', DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0',
      BCRYPT_COST: '10', LOG_LEVEL: 'info', URL_IMPORT_ALLOW_HOSTS: '127.0.0.1', ...providers.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const origin = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk;
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)\/api"/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
  return {
    origin,
    pageUrl: `${pageOrigin}/launch-plan`,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      page.close();
      await providers.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

type Body = Record<string, unknown> | unknown[] | FormData;

/** The ids and tokens the journey made, for tools that replay requests (Newman). */
export interface JourneyIds {
  token: string;
  refresh: string;
  userId: string;
  workspaceId: string;
  conversationId: string;
  messageId: string;
  memoryId: string;
  integrationId: string;
  invitationId: string;
  memberUserId: string;
}

/**
 * Calls every operation at least once through `base` (the server, or a proxy in front of
 * it), in an order where each finds what it needs. Returns every exchange and the ids.
 */
export async function journey(base: string, pageUrl: string): Promise<{ exchanges: Exchange[]; ids: JourneyIds }> {
  const exchanges: Exchange[] = [];
  const call = async (method: string, path: string, options: { token?: string; body?: Body; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.Authorization = `Bearer ${options.token}`;
    let body: string | FormData | undefined;
    if (options.body instanceof FormData) body = options.body;
    else if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const res = await fetch(`${base}${path}`, { method, headers, body });
    const text = await res.text();
    exchanges.push({ method, path, status: res.status, headers: res.headers, text });
    if (res.status >= 500) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 300)}`);
    return { status: res.status, text, json: () => JSON.parse(text) as { ok: boolean; data: any; error: unknown } };
  };
  const stamp = Date.now().toString(36);
  const password = 'a long enough password';
  const register = async (name: string) => (await call('POST', '/api/auth/register', { body: { name, email: `${name.toLowerCase()}.${stamp}@example.com`, password } })).json().data;

  const owner = await register('Ada');
  const member = await register('Grace');
  const decliner = await register('Alan');
  const leaver = await register('Edsger');
  const token = owner.token as string;
  const login = (await call('POST', '/api/auth/login', { body: { email: owner.user.email, password } })).json().data;
  const refreshed = (await call('POST', '/api/auth/refresh', { body: { refresh: login.refresh } })).json().data;
  await call('GET', '/api/auth/profile', { token });
  await call('PUT', '/api/auth/profile/update', { token, body: { name: 'Ada Lovelace' } });
  await call('GET', '/api/health');
  await call('GET', '/api/models');
  for (const path of ['/api/openapi.json', '/api/openapi.yaml', '/api/docs', '/api/docs/app.js']) await call('GET', path);

  // Workspaces
  const listed = (await call('GET', '/api/workspaces', { token })).json().data;
  await call('GET', '/api/workspaces', { token, headers: { 'If-None-Match': '*' } });
  const defaultWorkspace = listed.workspaces[0].id as string;
  const workspaceId = (await call('POST', '/api/workspaces', { token, body: { name: 'Research', description: 'Papers and notes' } })).json().data.id as string;
  await call('GET', `/api/workspaces/${workspaceId}`, { token });
  await call('PUT', `/api/workspaces/${workspaceId}`, { token, body: { name: 'Research 2026' } });
  await call('GET', `/api/workspaces/${workspaceId}/stats`, { token });
  await call('POST', `/api/workspaces/${workspaceId}/record-load`, { token });
  await call('GET', `/api/workspaces/${workspaceId}/dashboard`, { token });
  await call('GET', `/api/workspaces/${workspaceId}/activity?limit=5`, { token });
  await call('GET', `/api/workspaces/${workspaceId}/neural-load`, { token });

  // Team and invitations
  const invited = (await call('POST', `/api/workspaces/${workspaceId}/team/invite`, { token, body: { email: member.user.email, role: 'researcher' } })).json().data;
  await call('GET', '/api/invitations', { token: member.token });
  await call('POST', `/api/invitations/${invited.id}/accept`, { token: member.token });
  const declined = (await call('POST', `/api/workspaces/${workspaceId}/team/invite`, { token, body: { email: decliner.user.email } })).json().data;
  await call('POST', `/api/invitations/${declined.id}/decline`, { token: decliner.token });
  await call('GET', `/api/workspaces/${workspaceId}/team`, { token });
  await call('PUT', `/api/workspaces/${workspaceId}/team/${member.user.id}/role`, { token, body: { role: 'admin' } });
  await call('PUT', `/api/workspaces/${workspaceId}/team/${member.user.id}/status`, { token: member.token, body: { status: 'away' } });
  const leaverInvite = (await call('POST', `/api/workspaces/${workspaceId}/team/invite`, { token, body: { email: leaver.user.email } })).json().data;
  await call('POST', `/api/invitations/${leaverInvite.id}/accept`, { token: leaver.token });
  await call('DELETE', `/api/workspaces/${workspaceId}/team/${leaver.user.id}`, { token });

  // Integrations (the provider stand-ins answer the live key test)
  const integrationId = (await call('POST', '/api/integrations', { token, body: { provider: 'openai', apiKey: 'sk-journey-key-0001', modelId: 'gpt-4o' } })).json().data.id as string;
  await call('GET', '/api/integrations', { token });
  await call('GET', `/api/integrations/${integrationId}`, { token });
  await call('PUT', `/api/integrations/${integrationId}`, { token, body: { modelName: 'GPT-4o' } });
  await call('POST', `/api/integrations/${integrationId}/test`, { token });
  await call('GET', '/api/models/available', { token });

  // Memories
  const memoryId = (await call('POST', `/api/workspaces/${workspaceId}/memories`, { token, body: { title: 'Launch plan', content: 'We launch the rocket on Friday.', tags: ['launch'], metadata: { source: 'journey' } } })).json().data.id as string;
  await call('GET', `/api/workspaces/${workspaceId}/memories?sortBy=recent`, { token });
  await call('GET', `/api/memories/${memoryId}`, { token });
  await call('PUT', `/api/memories/${memoryId}`, { token, body: { content: 'We launch the rocket on Monday.', tags: ['launch', 'plan'] } });
  await call('POST', `/api/memories/${memoryId}/re-embed`, { token });
  await call('POST', '/api/memories/search', { token, body: { query: 'rocket launch', workspaceId, top_k: 5 } });
  await call('POST', `/api/workspaces/${workspaceId}/memories/import-url`, { token, body: { url: pageUrl, summarize: false } });
  const form = new FormData();
  form.append('file', new Blob(['# Notes\n\nThe review is on Thursday.\n'], { type: 'text/markdown' }), 'notes.md');
  form.append('summarize', 'false');
  await call('POST', `/api/workspaces/${workspaceId}/memories/import-file`, { token, body: form });

  // Conversations and messages
  const conversationId = (await call('POST', `/api/workspaces/${workspaceId}/conversations`, { token, body: { modelId: 'model-gpt-4o', title: 'Launch planning' } })).json().data.id as string;
  await call('GET', `/api/workspaces/${workspaceId}/conversations`, { token });
  const sent = (await call('POST', `/api/conversations/${conversationId}/messages`, { token, body: { content: 'When do we launch?' } })).json().data;
  await call('POST', `/api/conversations/${conversationId}/messages`, { token, body: { content: 'And the review?', stream: true } });
  const messageId = sent.userMessage.id as string;
  await call('GET', `/api/conversations/${conversationId}`, { token });
  await call('PUT', `/api/conversations/${conversationId}`, { token, body: { title: 'Launch planning (final)' } });
  await call('PUT', `/api/conversations/${conversationId}/messages/${messageId}`, { token, body: { isPinned: true } });
  await call('POST', `/api/conversations/${conversationId}/inject-memory`, { token, body: { memoryId } });
  await call('PUT', `/api/conversations/${conversationId}/inject-memory/${memoryId}/toggle`, { token });
  await call('DELETE', `/api/conversations/${conversationId}/inject-memory/${memoryId}`, { token });
  await call('POST', `/api/conversations/${conversationId}/close`, { token });
  await call('POST', `/api/conversations/${conversationId}/reopen`, { token });
  await call('DELETE', `/api/conversations/${conversationId}/messages/${sent.assistantMessage.id}`, { token });

  // MCP: the legacy routes and the JSON-RPC endpoint
  const scope = { workspace_id: workspaceId };
  await call('POST', '/api/mcp/remember', { token, body: { ...scope, text: 'The crew boards at dawn.', tags: ['crew'] } });
  await call('POST', '/api/mcp/batch-remember', { token, body: { ...scope, memories: [{ text: 'Fuel check at noon.' }, { text: 'Weather check at six.' }] } });
  await call('POST', '/api/mcp/search', { token, body: { ...scope, query: 'crew', top_k: 5 } });
  await call('POST', '/api/mcp/inject', { token, body: { ...scope, max_memories: 3 } });
  await call('GET', `/api/mcp/listMemories?workspace_id=${workspaceId}&limit=5`, { token });
  await call('POST', '/api/mcp/index/rebuild', { token, body: scope });
  await call('GET', `/api/mcp/index/status?workspace_id=${workspaceId}`, { token });
  const rpc = { token, headers: { Accept: 'application/json, text/event-stream' } };
  await call('POST', '/mcp', { ...rpc, body: { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'journey', version: '1.0.0' } } } });
  await call('POST', '/mcp', { ...rpc, body: { jsonrpc: '2.0', method: 'notifications/initialized' } });
  await call('POST', '/mcp', { ...rpc, body: { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'search_memories', arguments: { query: 'crew', ...scope } } } });
  await call('POST', '/api/chat', { token, body: { conversation_id: conversationId, message: 'hello' } });
  await call('POST', '/api/hooks/spec-update');

  // Settings, export, and the endings
  await call('GET', '/api/settings', { token });
  await call('PUT', '/api/settings/profile', { token, body: { name: 'Ada King' } });
  await call('PUT', '/api/settings/memory-retention', { token, body: { autoStore: true, retentionPeriod: '30-days' } });
  await call('GET', '/api/settings/cleanup-info', { token });
  await call('POST', '/api/settings/cleanup', { token });
  await call('GET', '/api/export', { token });
  const ids: JourneyIds = {
    token, refresh: refreshed.refresh, userId: owner.user.id, workspaceId, conversationId, messageId, memoryId, integrationId, invitationId: invited.id, memberUserId: member.user.id,
  };
  // Deletions take resources of their own: the ids above stay valid for the tools that replay requests.
  const doomedConversation = (await call('POST', `/api/workspaces/${workspaceId}/conversations`, { token, body: { modelId: 'model-gpt-4o' } })).json().data.id as string;
  const doomedMemory = (await call('POST', `/api/workspaces/${workspaceId}/memories`, { token, body: { title: 'Scratch', content: 'To be deleted.' } })).json().data.id as string;
  const doomedIntegration = (await call('POST', '/api/integrations', { token, body: { provider: 'groq', apiKey: 'gsk-journey-key-0001' } })).json().data.id as string;
  await call('DELETE', `/api/conversations/${doomedConversation}`, { token: member.token });
  await call('DELETE', `/api/memories/${doomedMemory}`, { token: member.token });
  await call('DELETE', `/api/integrations/${doomedIntegration}`, { token });
  await call('DELETE', `/api/workspaces/${defaultWorkspace}`, { token });
  const renewed = (await call('POST', '/api/auth/password', { token: decliner.token, body: { currentPassword: password, newPassword: 'another long passphrase' } })).json().data;
  await call('POST', '/api/auth/logout', { token: member.token, body: {} });
  await call('POST', '/api/auth/logout-all', { token: leaver.token });
  await call('DELETE', '/api/account', { token: renewed.token });
  // The owner's session stays open for the tools that replay requests with these ids.
  return { exchanges, ids };
}
