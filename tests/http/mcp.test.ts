import { expect, it } from 'vitest';
import { newId } from '../../src/lib/ids.js';
import { describeEachStorage } from '../support/app.js';
import { registerUser, type Session } from '../support/factories.js';
import { connectMcp, listenForMcp } from '../support/mcp.js';
import { addMember, addMemory, defaultWorkspace, tinyModelEnv } from '../support/memories.js';

describeEachStorage(
  'mcp',
  (ctx) => {
    const baseUrl = listenForMcp(ctx);

    async function conversationIn(workspaceId: string) {
      return ctx().deps.prisma.conversation.create({ data: { id: newId('conv'), workspaceId, modelId: 'model-echo' } });
    }

    it('L1 is public and its total is the number of models', async () => {
      const res = await ctx().http.get('/api/models');
      expect(res.status).toBe(200);
      expect(res.body.data.total).toBe(Object.keys(res.body.data.models).length);
      expect(res.body.data.models['gpt-4o']).toBe('openai');
    });

    it('L2–L9 require the bearer token', async () => {
      const app = ctx();
      for (const [method, path] of [['post', '/api/chat'], ['post', '/api/mcp/remember'], ['post', '/api/mcp/batch-remember'], ['post', '/api/mcp/search'], ['post', '/api/mcp/inject'], ['get', '/api/mcp/listMemories'], ['post', '/api/mcp/index/rebuild'], ['get', '/api/mcp/index/status']] as const) {
        const res = await app.http[method](path).send({});
        expect(res.status, path).toBe(401);
        expect(res.body.error).toBe('Authentication credentials were not provided.');
      }
      expect((await app.http.post('/mcp').send({ jsonrpc: '2.0', id: 1, method: 'tools/list' })).status).toBe(401);
    });

    it('L3 remembers into the conversation\'s workspace, else workspace_id, else the caller\'s latest workspace; never another user\'s', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const stranger = await registerUser(app);
      const ws = await defaultWorkspace(app, owner);
      const strangerWs = await defaultWorkspace(app, stranger);
      const conv = await conversationIn(ws);
      const viaConv = await app.http.post('/api/mcp/remember').set(owner.auth).send({ text: 'x'.repeat(60), conversation_id: conv.id, tags: ['t'] });
      expect(viaConv.status).toBe(201);
      expect(viaConv.body.data).toEqual({ id: expect.stringMatching(/^memory-/), title: `${'x'.repeat(50)}...`, status: 'saved', workspace_id: ws, created_at: expect.any(String) });
      const fallback = await app.http.post('/api/mcp/remember').set(stranger.auth).send({ text: 'mine' });
      expect(fallback.body.data.workspace_id).toBe(strangerWs);
      const foreignWs = await app.http.post('/api/mcp/remember').set(stranger.auth).send({ text: 'intrude', workspace_id: ws });
      expect(foreignWs.status).toBe(403);
      const foreignConv = await app.http.post('/api/mcp/remember').set(stranger.auth).send({ text: 'intrude', conversation_id: conv.id });
      expect(foreignConv.status).toBe(403);
      expect((await app.http.post('/api/mcp/remember').set(owner.auth).send({ text: 'x', conversation_id: 'conv-000000000000' })).status).toBe(404);
      const missing = await app.http.post('/api/mcp/remember').set(owner.auth).send({});
      expect(missing.status).toBe(400);
      expect(missing.body.error).toBe('text required');
      // an observer may read but not write
      await addMember(app, ws, stranger.user.id, 'observer');
      expect((await app.http.post('/api/mcp/remember').set(stranger.auth).send({ text: 'x', workspace_id: ws })).status).toBe(403);
      expect((await app.http.post('/api/mcp/search').set(stranger.auth).send({ query: 'x', workspace_id: ws })).status).toBe(200);
      expect(await app.deps.prisma.memory.count({ where: { content: 'intrude' } })).toBe(0);
    });

    it('L4–L9 work, scoped to the caller', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const stranger = await registerUser(app);
      const ws = await defaultWorkspace(app, owner);
      await addMemory(app, stranger, await defaultWorkspace(app, stranger), { title: 'Theirs', content: 'pizza cheese secret' });
      const batch = await app.http.post('/api/mcp/batch-remember').set(owner.auth).send({ memories: [{ text: 'pizza with cheese' }, { text: 'rocket launch', title: 'Space' }] });
      expect(batch.status).toBe(201);
      expect(batch.body.data.created).toBe(2);
      expect((await app.http.post('/api/mcp/batch-remember').set(owner.auth).send({ memories: 'x' })).body.error).toBe('memories array required');
      await app.deps.embeddings.backlog.drain();

      const found = await app.http.post('/api/mcp/search').set(owner.auth).send({ query: 'pizza cheese' });
      expect(found.status).toBe(200);
      expect(found.body.data.results.map((r: { workspace_id: string }) => r.workspace_id)).toEqual([ws, ...(found.body.data.results.length > 1 ? [ws] : [])]);
      expect(found.body.data.results[0]).toMatchObject({ title: 'pizza with cheese', score: expect.any(Number), created_at: expect.any(String) });
      expect((await app.http.post('/api/mcp/search').set(owner.auth).send({})).body.error).toBe('query required');

      const injected = await app.http.post('/api/mcp/inject').set(owner.auth).send({ max_memories: 1 });
      expect(injected.body.data).toMatchObject({ injected_context: '- Space: rocket launch', memory_count: 1 });
      const listed = await app.http.get('/api/mcp/listMemories?limit=1&offset=1').set(owner.auth);
      expect(listed.body.data).toMatchObject({ total: 2, limit: 1, offset: 1, workspace_id: ws });
      expect(listed.body.data.memories).toHaveLength(1);

      const status = await app.http.get('/api/mcp/index/status').set(owner.auth);
      expect(status.body.data).toMatchObject({ workspace_id: ws, total: 2, ready: 2, pending: 0, chunks: 2, model_status: 'ready' });
      const rebuild = await app.http.post('/api/mcp/index/rebuild').set(owner.auth);
      expect(rebuild.body.data).toMatchObject({ workspace_id: ws, queued: 2 });
      await app.deps.embeddings.backlog.drain();
      expect((await app.http.get('/api/mcp/index/status').set(owner.auth)).body.data).toMatchObject({ ready: 2, pending: 0 });

      const conv = await conversationIn(ws);
      const chat = await app.http.post('/api/chat').set(owner.auth).send({ conversation_id: conv.id, message: 'hi' });
      expect(chat.status).toBe(410);
      expect((await app.http.post('/api/chat').set(owner.auth).send({})).body.error).toBe('conversation_id and message required');
      expect((await app.http.post('/api/chat').set(stranger.auth).send({ conversation_id: conv.id, message: 'hi' })).status).toBe(403);
    });

    it('/mcp refuses foreign Host and Origin headers (DNS rebinding); its own hosts and the configured origins pass', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const listTools = (headers: Record<string, string>) => {
        let req = app.http.post('/mcp').set(owner.auth).set('Accept', 'application/json, text/event-stream');
        for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
        return req.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
      };
      const port = new URL(baseUrl()).port;
      for (const headers of [{ Host: `rebound.example:${port}` }, { Host: 'rebound.example' }, { Host: `127.0.0.1.nip.example:${port}` }, { Host: `rebound.example@127.0.0.1:${port}` }, { Host: '127.0.0.1/x' }]) {
        const res = await listTools(headers);
        expect([res.status, res.body], JSON.stringify(headers)).toEqual([403, { ok: false, data: null, error: 'Host not allowed' }]);
      }
      for (const origin of [`http://rebound.example:${port}`, 'null', 'https://localhost:5173.rebound.example']) {
        const res = await listTools({ Origin: origin });
        expect([res.status, res.body.error], origin).toEqual([403, 'Origin not allowed']);
      }
      const allowed: Record<string, string>[] = [
        {}, // SDK clients and curl send no Origin
        { Host: `localhost:${port}` },
        { Host: 'LOCALHOST' },
        { Origin: 'http://localhost:5173' }, // a configured CORS origin
        { Host: `127.0.0.1:${port}`, Origin: `http://127.0.0.1:${port}` }, // a page this server served itself
      ];
      for (const headers of allowed) {
        const res = await listTools(headers);
        expect(res.status, JSON.stringify(headers)).toBe(200);
        expect(JSON.stringify(res.body)).toContain('search_memories');
      }
    });

    const mcpClient = (session: Session) => connectMcp(baseUrl(), session.auth);

    it('/mcp answers the SDK client: tools, remember → search → get, scoped to the token\'s user', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const stranger = await registerUser(app);
      const ws = await defaultWorkspace(app, owner);
      const secret = await addMemory(app, stranger, await defaultWorkspace(app, stranger), { title: 'Theirs', content: 'the secret rocket launch' });
      const client = await mcpClient(owner);
      try {
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name).sort()).toEqual(['delete_memory', 'get_memory', 'inject_memories', 'list_memories', 'list_workspaces', 'remember', 'search_memories', 'update_memory']);
        const saved = await client.callTool({ name: 'remember', arguments: { text: 'the rocket launch to mars', tags: ['space'] } });
        const memory = (saved.structuredContent as { id: string; workspace_id: string });
        expect(memory.workspace_id).toBe(ws);
        await app.deps.embeddings.backlog.drain();
        const found = await client.callTool({ name: 'search_memories', arguments: { query: 'rocket launch' } });
        const results = (found.structuredContent as { results: { id: string }[]; mode: string });
        expect(results.mode).toBe('hybrid');
        expect(results.results.map((r) => r.id)).toEqual([memory.id]);
        const got = await client.callTool({ name: 'get_memory', arguments: { memory_id: memory.id } });
        expect(got.structuredContent).toMatchObject({ id: memory.id, content: 'the rocket launch to mars', embedding_status: 'ready' });
        const listed = await client.callTool({ name: 'list_memories', arguments: {} });
        expect((listed.structuredContent as { total: number }).total).toBe(1);
        const injected = await client.callTool({ name: 'inject_memories', arguments: {} });
        expect((injected.structuredContent as { injected_context: string }).injected_context).toContain('rocket launch to mars');
        const denied = await client.callTool({ name: 'get_memory', arguments: { memory_id: secret.id } });
        expect(denied.isError).toBe(true);
        expect(JSON.stringify(denied.content)).toContain('Access denied');
        const foreign = await client.callTool({ name: 'remember', arguments: { text: 'x', workspace_id: await defaultWorkspace(app, stranger) } });
        expect(foreign.isError).toBe(true);
        const workspaces = await client.callTool({ name: 'list_workspaces', arguments: {} });
        expect(workspaces.structuredContent).toMatchObject({ total: 1, workspaces: [{ id: ws, role: 'owner', memory_count: 1 }] });
        for (const name of ['update_memory', 'delete_memory']) {
          const refused = await client.callTool({ name, arguments: { memory_id: secret.id, ...(name === 'update_memory' && { title: 'Mine now' }) } });
          expect(refused.isError, name).toBe(true);
          expect(JSON.stringify(refused.content)).toContain('Access denied');
        }
        expect(await app.deps.prisma.memory.findUnique({ where: { id: secret.id } })).toMatchObject({ title: 'Theirs' });
      } finally {
        await client.close();
      }
      await expect(connectMcp(baseUrl(), { Authorization: 'Bearer nope' })).rejects.toThrow();
    });
  },
  tinyModelEnv(),
);
