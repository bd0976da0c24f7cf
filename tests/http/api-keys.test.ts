import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { expect, it } from 'vitest';
import { newId } from '../../src/lib/ids.js';
import { describeEachStorage, type TestApp } from '../support/app.js';
import { registerUser, type Session } from '../support/factories.js';
import { connectMcp, listenForMcp } from '../support/mcp.js';
import { addMember, addMemory, defaultWorkspace, tinyModelEnv } from '../support/memories.js';

const run = promisify(execFile);

/** Requests one key may make per window in this suite (the rate-limit test spends them). */
const KEY_LIMIT = 60;

describeEachStorage(
  'api keys',
  (ctx) => {
    const baseUrl = listenForMcp(ctx);

    async function createKey(app: TestApp, session: Session, body: Record<string, unknown>) {
      const res = await app.http.post('/api/auth/api-keys').set(session.auth).send({ name: 'Script', ...body });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.data as { id: string; key: string; prefix: string; scopes: string[]; workspaceIds: string[] | null };
    }
    const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

    const mcpClient = (key: string) => connectMcp(baseUrl(), bearer(key));
    const textOf = (result: Awaited<ReturnType<Client['callTool']>>) => (result.content as { text: string }[])[0]!.text;

    it('a memories:read + memories:write key drives /mcp through the official client, is refused chat (403), and once revoked is refused (401)', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const ws = await defaultWorkspace(app, owner);
      const created = await createKey(app, owner, { name: 'Claude Desktop', scopes: ['memories:read', 'memories:write'] });
      expect(created.key).toMatch(/^chm_[A-Za-z0-9_-]{43}$/);
      expect(created.prefix).toBe(created.key.slice(0, 12));
      expect(created).toMatchObject({ name: 'Claude Desktop', scopes: ['memories:read', 'memories:write'], workspaceIds: null });

      const client = await mcpClient(created.key);
      try {
        const tools = (await client.listTools()).tools.map((t) => t.name);
        expect(tools).toEqual(expect.arrayContaining(['remember', 'search_memories', 'update_memory', 'delete_memory', 'list_workspaces']));
        const saved = await client.callTool({ name: 'remember', arguments: { text: 'the rocket launch to mars is in june', tags: ['space'] } });
        expect(saved.isError).toBeFalsy();
        const memoryId = (saved.structuredContent as { id: string; workspace_id: string }).id;
        expect((saved.structuredContent as { workspace_id: string }).workspace_id).toBe(ws);
        const found = await client.callTool({ name: 'search_memories', arguments: { query: 'rocket launch' } });
        expect((found.structuredContent as { results: { id: string }[] }).results.map((r) => r.id)).toContain(memoryId);

        const updated = await client.callTool({ name: 'update_memory', arguments: { memory_id: memoryId, title: 'Mars', text: 'the launch moved to july' } });
        expect(updated.structuredContent).toMatchObject({ id: memoryId, title: 'Mars', content: 'the launch moved to july', version: 2 });
        // A tool outside the key's scopes answers a tool error naming the scope.
        const workspaces = await client.callTool({ name: 'list_workspaces', arguments: {} });
        expect(workspaces.isError).toBe(true);
        expect(textOf(workspaces)).toBe('This API key lacks the scope "workspaces:read"');
        const deleted = await client.callTool({ name: 'delete_memory', arguments: { memory_id: memoryId } });
        expect(deleted.structuredContent).toEqual({ id: memoryId, status: 'deleted', workspace_id: ws });
        expect(await app.deps.prisma.memory.count({ where: { id: memoryId } })).toBe(0);
      } finally {
        await client.close();
      }

      const conversation = await app.deps.prisma.conversation.create({ data: { id: newId('conv'), workspaceId: ws, modelId: 'model-echo' } });
      const chat = await app.http.post(`/api/conversations/${conversation.id}/messages`).set(bearer(created.key)).send({ content: 'hi', getAiResponse: false });
      expect(chat.status).toBe(403);
      expect(chat.body.error).toBe('This API key lacks the scope "chat"');

      expect((await app.http.delete(`/api/auth/api-keys/${created.id}`).set(owner.auth)).status).toBe(200);
      const refused = await app.http.get(`/api/workspaces/${ws}/memories`).set(bearer(created.key));
      expect(refused.status).toBe(401);
      expect(refused.headers['www-authenticate']).toBe('Bearer realm="api", error="invalid_token", error_description="The API key was revoked"');
      await expect(mcpClient(created.key)).rejects.toThrow();
      // Revoked keys leave the list; revoking again is a 404.
      expect((await app.http.get('/api/auth/api-keys').set(owner.auth)).body.data.keys).toEqual([]);
      expect((await app.http.delete(`/api/auth/api-keys/${created.id}`).set(owner.auth)).status).toBe(404);
    });

    it('shows the key once: the list, the database, a database dump and the logs never hold it', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const created = await createKey(app, owner, { name: 'Dumped', scopes: ['memories:read'] });
      expect((await app.http.get('/api/auth/profile').set(bearer(created.key))).status).toBe(403); // used once at least
      const listed = await app.http.get('/api/auth/api-keys').set(owner.auth);
      expect(listed.body.data.keys).toEqual([
        { id: created.id, name: 'Dumped', prefix: created.prefix, scopes: ['memories:read'], workspaceIds: null, createdAt: expect.any(String), expiresAt: null, lastUsedAt: expect.any(String) },
      ]);
      expect(JSON.stringify(listed.body)).not.toContain(created.key);
      const rows = await app.deps.db.query<Record<string, unknown>>('SELECT * FROM api_keys WHERE id = $1', [created.id]);
      expect(JSON.stringify(rows)).not.toContain(created.key.slice(12));
      if (app.database.url) {
        const { stdout } = await run('pg_dump', ['--data-only', app.database.url], { maxBuffer: 256 * 1024 * 1024 });
        expect(stdout).toContain(created.prefix); // the dump does hold the key's row…
        expect(stdout).not.toContain(created.key); // …but not the key
        expect(stdout).not.toContain(created.key.slice(12));
      }
      const exported = await app.http.get('/api/export').set(owner.auth).buffer(true).parse((res, done) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => done(null, text));
      });
      expect(exported.status).toBe(200);
      expect(exported.body as string).not.toContain(created.key.slice(12));
      expect(app.logs.join('')).not.toContain(created.key.slice(12));
    });

    it('a key reaches only what its scopes grant, in its workspaces only, with its creator\'s role; it cannot manage keys or the account', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const home = await defaultWorkspace(app, owner);
      const other = (await app.http.post('/api/workspaces').set(owner.auth).send({ name: 'Other' })).body.data.id as string;
      const inOther = await addMemory(app, owner, other, { title: 'Elsewhere', content: 'a note about rockets elsewhere' });
      await addMemory(app, owner, home, { title: 'Home', content: 'a note about rockets at home' });
      const key = (await createKey(app, owner, { scopes: ['memories:read', 'workspaces:read'], workspaceIds: [home] })).key;
      expect((await app.http.get(`/api/workspaces/${home}/memories`).set(bearer(key))).status).toBe(200);
      const outside = await app.http.get(`/api/memories/${inOther.id}`).set(bearer(key));
      expect(outside.status).toBe(403);
      expect(outside.body.error).toBe('This API key is not allowed in this workspace');
      expect((await app.http.get(`/api/workspaces/${other}`).set(bearer(key))).status).toBe(403);
      // Lists and searches across workspaces cover the key's own.
      const list = await app.http.get('/api/workspaces').set(bearer(key));
      expect(list.body.data.workspaces.map((w: { id: string }) => w.id)).toEqual([home]);
      expect(list.body.data.total).toBe(1);
      const search = await app.http.post('/api/memories/search').set(bearer(key)).send({ query: 'rockets' });
      expect(search.body.data.results.map((r: { workspace_id: string }) => r.workspace_id)).toEqual([home]);
      const written = await app.http.post(`/api/workspaces/${home}/memories`).set(bearer(key)).send({ title: 'T', content: 'C' });
      expect(written.status).toBe(403);
      expect(written.body.error).toBe('This API key lacks the scope "memories:write"');
      // Keys reach no account, key or settings route.
      for (const [method, path, body] of [
        ['post', '/api/auth/api-keys', { name: 'Child', scopes: ['memories:read'] }],
        ['get', '/api/auth/api-keys', undefined],
        ['get', '/api/auth/profile', undefined],
        ['get', '/api/settings', undefined],
        ['get', '/api/export', undefined],
        ['delete', '/api/account', undefined],
      ] as const) {
        const res = await app.http[method](path).set(bearer(key)).send(body);
        expect(res.status, path).toBe(403);
        expect(res.body.error).toBe('API keys cannot be used for this; sign in to the app instead');
      }
      expect(await app.deps.prisma.apiKey.count({ where: { user: { id: owner.user.id } } })).toBe(1);

      // An observer's key with memories:write still writes nothing: the role caps it.
      const observer = await registerUser(app);
      await addMember(app, home, observer.user.id, 'observer');
      const observerKey = (await createKey(app, observer, { scopes: ['memories:read', 'memories:write'] })).key;
      expect((await app.http.get(`/api/workspaces/${home}/memories`).set(bearer(observerKey))).status).toBe(200);
      expect((await app.http.post(`/api/workspaces/${home}/memories`).set(bearer(observerKey)).send({ title: 'T', content: 'C' })).status).toBe(403);
    });

    it('refuses keys for workspaces that are not the caller\'s and bad input', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const stranger = await registerUser(app);
      const theirs = await defaultWorkspace(app, stranger);
      const foreign = await app.http.post('/api/auth/api-keys').set(owner.auth).send({ name: 'K', scopes: ['chat'], workspaceIds: [theirs] });
      expect(foreign.status).toBe(400);
      expect(foreign.body.error.workspaceIds).toEqual([expect.stringContaining(theirs)]);
      const unknownScope = await app.http.post('/api/auth/api-keys').set(owner.auth).send({ name: 'K', scopes: ['admin'] });
      expect(unknownScope.status).toBe(400);
      expect(unknownScope.body.error.scopes).toBeDefined();
      expect((await app.http.post('/api/auth/api-keys').set(owner.auth).send({ name: 'K', scopes: [] })).status).toBe(400);
      const past = await app.http.post('/api/auth/api-keys').set(owner.auth).send({ name: 'K', scopes: ['chat'], expiresAt: '2020-01-01T00:00:00Z' });
      expect(past.status).toBe(400);
      expect(past.body.error).toEqual({ expiresAt: ['Must be in the future'] });
      // Another user's key is not found, and not revoked.
      const key = await createKey(app, owner, { scopes: ['chat'] });
      expect((await app.http.delete(`/api/auth/api-keys/${key.id}`).set(stranger.auth)).status).toBe(404);
      expect((await app.http.get('/api/auth/api-keys').set(owner.auth)).body.data.keys).toHaveLength(1);
      // A made-up key is a 401.
      const made = await app.http.get('/api/workspaces').set(bearer(`chm_${'A'.repeat(43)}`));
      expect(made.status).toBe(401);
      expect(made.body.error).toBe('Invalid API key');
    });

    it('an expired key is refused', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const created = await createKey(app, owner, { scopes: ['workspaces:read'], expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
      expect(created).toMatchObject({ expiresAt: expect.any(String) });
      expect((await app.http.get('/api/workspaces').set(bearer(created.key))).status).toBe(200);
      await app.deps.prisma.apiKey.update({ where: { id: created.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
      const expired = await app.http.get('/api/workspaces').set(bearer(created.key));
      expect(expired.status).toBe(401);
      expect(expired.headers['www-authenticate']).toContain('The API key expired');
    });

    it('deleting the account ends its keys at once', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const { key } = await createKey(app, owner, { scopes: ['workspaces:read'] });
      expect((await app.http.get('/api/workspaces').set(bearer(key))).status).toBe(200);
      expect((await app.http.delete('/api/account').set(owner.auth)).status).toBe(200);
      expect((await app.http.get('/api/workspaces').set(bearer(key))).status).toBe(401);
      expect(await app.deps.prisma.apiKey.count({ where: { userId: owner.user.id } })).toBe(0);
    });

    it('records the last use at most once a minute', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const created = await createKey(app, owner, { scopes: ['workspaces:read'] });
      const lastUsed = async () => (await app.deps.prisma.apiKey.findUniqueOrThrow({ where: { id: created.id } })).lastUsedAt;
      expect(await lastUsed()).toBeNull();
      await app.http.get('/api/workspaces').set(bearer(created.key)).expect(200);
      await Promise.allSettled([...app.deps.background]);
      const first = await lastUsed();
      expect(first).toBeInstanceOf(Date);
      await app.http.get('/api/workspaces').set(bearer(created.key)).expect(200);
      await Promise.allSettled([...app.deps.background]);
      expect(await lastUsed()).toEqual(first);
      // A minute later (moved back in the database), the next use is recorded again.
      await app.deps.prisma.apiKey.update({ where: { id: created.id }, data: { lastUsedAt: new Date(Date.now() - 61_000) } });
      await app.http.get('/api/workspaces').set(bearer(created.key)).expect(200);
      await Promise.allSettled([...app.deps.background]);
      expect((await lastUsed())!.getTime()).toBeGreaterThan(first!.getTime() - 1000);
      expect((await lastUsed())!.getTime()).toBeGreaterThan(Date.now() - 30_000);
    });

    it('limits requests per key', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const { key } = await createKey(app, owner, { scopes: ['workspaces:read'] });
      const other = (await createKey(app, owner, { scopes: ['workspaces:read'] })).key;
      for (let i = 0; i < KEY_LIMIT; i++) await app.http.get('/api/workspaces').set(bearer(key)).expect(200);
      const limited = await app.http.get('/api/workspaces').set(bearer(key));
      expect(limited.status).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      // Another key of the same user, and the user's own session, are not affected.
      expect((await app.http.get('/api/workspaces').set(bearer(other))).status).toBe(200);
      expect((await app.http.get('/api/workspaces').set(owner.auth)).status).toBe(200);
    });

    it('/mcp without credentials answers 401 with a bearer challenge for the mcp realm, and advertises no OAuth', async () => {
      const app = ctx();
      const res = await app.http.post('/mcp').set('Accept', 'application/json, text/event-stream').send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="mcp", error_description="Send a personal API key[^"]*Authorization: Bearer chm_\.\.\."$/);
      expect(res.headers['www-authenticate']).not.toContain('resource_metadata');
      expect((await app.http.get('/.well-known/oauth-protected-resource')).status).toBe(404);
      expect((await app.http.get('/.well-known/oauth-authorization-server')).status).toBe(404);
      const bad = await app.http.post('/mcp').set(bearer('chm_nope')).send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
      expect(bad.headers['www-authenticate']).toBe('Bearer realm="mcp", error="invalid_token", error_description="The API key is invalid"');
    });
  },
  { ...tinyModelEnv(), API_KEY_RATE_LIMIT: String(KEY_LIMIT) },
);
