import { expect, it } from 'vitest';
import { describeEachStorage } from '../support/app.js';
import { registerUser } from '../support/factories.js';

describeEachStorage('global conventions', (ctx) => {
  it('unknown routes get the 404 envelope, inside and outside /api', async () => {
    for (const path of ['/api/nope', '/api/auth/profile/extra/segments', '/', '/admin/']) {
      const r = await ctx().http.get(path);
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ ok: false, data: null, error: 'Not found' });
    }
  });

  it('a known path with the wrong method: 405 after authentication, with Allow', async () => {
    const app = ctx();
    const anon = await app.http.patch('/api/auth/profile');
    expect(anon.status).toBe(401);
    const s = await registerUser(app);
    const r = await app.http.patch('/api/auth/profile').set(s.auth);
    expect(r.status).toBe(405);
    expect(r.body).toEqual({ ok: false, data: null, error: 'Method "PATCH" not allowed.' });
    expect(r.headers.allow).toContain('GET');
    const pub = await app.http.delete('/api/health');
    expect(pub.status).toBe(405);
    expect(pub.body.error).toBe('Method "DELETE" not allowed.');
  });

  it('a broken percent-escape in the path is a 400 envelope, matched route or not, signed in or not', async () => {
    const app = ctx();
    const s = await registerUser(app);
    for (const path of ['/api/workspaces/%/stats', '/api/conversations/%ED%A0%80', '/api/memories/%E0%A4%A', '/api/integrations/%C0%AF']) {
      for (const headers of [{}, s.auth]) {
        const r = await app.http.get(path).set(headers);
        expect(r.status, path).toBe(400);
        expect(r.body).toEqual({ ok: false, data: null, error: 'Malformed URL: invalid percent-encoding' });
      }
    }
  });

  it('a NUL in a path id is a 404 envelope (after authentication), never a database error', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const ws = (await app.http.post('/api/workspaces').set(s.auth).send({ name: 'NUL probe' })).body.data.id as string;
    const paths = [`/api/workspaces/${ws}%00/stats`, '/api/conversations/conv-%00', `/api/workspaces/${ws}/team/%00/role`, '/api/memories/%00abc', '/api/integrations/int%00/test', '/api/invitations/%00/accept'];
    for (const path of paths) {
      const anon = await app.http.post(path);
      expect(anon.status, path).toBe(401);
      const r = await app.http.put(path).set(s.auth).send({ role: 'observer' });
      expect([404, 405], path).toContain(r.status);
      expect(r.body.ok).toBe(false);
    }
    const r = await app.http.get(`/api/workspaces/${ws}%00/stats`).set(s.auth);
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ ok: false, data: null, error: 'Not found' });
    const upload = await app.http.post(`/api/workspaces/${ws}%00/memories/import-file`).set(s.auth).attach('file', Buffer.from('hello there'), 'a.txt');
    expect(upload.status).toBe(404);
  });

  it('NUL anywhere in a body or query (ids, search terms, fields without their own check) is a 400, never a database error', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const ws = (await app.http.post('/api/workspaces').set(s.auth).send({ name: 'NUL probe' })).body.data.id as string;
    const conv = (await app.http.post(`/api/workspaces/${ws}/conversations`).set(s.auth).send({ modelId: 'model-echo' })).body.data.id as string;
    const inject = await app.http.post(`/api/conversations/${conv}/inject-memory`).set(s.auth).send({ memoryId: 'memory-\u0000' });
    expect(inject.status).toBe(400);
    expect(inject.body).toEqual({ ok: false, data: null, error: 'Null characters are not allowed.' });
    const list = await app.http.get(`/api/workspaces/${ws}/memories`).query({ search: 'a\u0000b' }).set(s.auth);
    expect(list.status).toBe(400);
    expect(list.body.error).toBe('Null characters are not allowed.');
    const search = await app.http.post('/api/memories/search').set(s.auth).send({ query: 'x', workspaceId: `${ws}\u0000` });
    expect(search.status).toBe(400);
    expect(search.body.ok).toBe(false);
    const invite = await app.http.post(`/api/workspaces/${ws}/team/invite`).set(s.auth).send({ email: 'a\u0000@example.test' });
    expect(invite.status).toBe(400);
    const mcp = await app.http.post('/mcp').set(s.auth).set('Accept', 'application/json, text/event-stream').send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_memory', arguments: { memory_id: 'm\u0000' } } });
    expect(mcp.status).toBe(400);
    expect(mcp.body).toEqual({ ok: false, data: null, error: 'Null characters are not allowed.' });
  });

  it('values with their own toString/valueOf keys get a 400 naming them; __proto__ keys pollute nothing', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const ws = (await app.http.post('/api/workspaces').set(s.auth).send({ name: 'Proto probe' })).body.data.id as string;
    const conv = (await app.http.post(`/api/workspaces/${ws}/conversations`).set(s.auth).send({ modelId: 'model-echo' })).body.data.id as string;
    const json = (body: string) => ({ 'Content-Type': 'application/json', ...s.auth, body });
    const send = (method: 'put' | 'post', path: string, h: ReturnType<typeof json>) => app.http[method](path).set({ 'Content-Type': h['Content-Type'], Authorization: h.Authorization }).send(h.body);
    const status = await send('put', `/api/conversations/${conv}`, json('{"status":{"toString":{"polluted":true}}}'));
    expect(status.status).toBe(400);
    expect(status.body).toEqual({ ok: false, data: null, error: '"{"toString":{"polluted":true}}" is not a valid choice.' });
    const role = await send('post', `/api/conversations/${conv}/messages`, json('{"content":"hi","role":[{"valueOf":{}}]}'));
    expect(role.status).toBe(400);
    expect(role.body.error).toEqual({ role: ['"[{"valueOf":{}}]" is not a valid choice.'] });
    const long = await send('put', `/api/conversations/${conv}`, json(JSON.stringify({ status: 'x'.repeat(5000) })));
    expect(long.body.error.length).toBeLessThan(140); // the echo is cut
    const proto = await send('post', '/api/workspaces', json('{"name":"Proto","__proto__":{"isAdmin":true,"role":"owner"},"constructor":{"prototype":{"isAdmin":true}}}'));
    expect(proto.status).toBe(201);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(proto.body.data).not.toHaveProperty('isAdmin');
  });

  it('a body nested thousands of levels deep is a 400, not a stack overflow', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const ws = (await app.http.post('/api/workspaces').set(s.auth).send({ name: 'Deep probe' })).body.data.id as string;
    const deepArray = `${'['.repeat(20_000)}1${']'.repeat(20_000)}`;
    const deepObject = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
    const cases: [string, string, string][] = [
      ['put', `/api/workspaces/${ws}/team/${s.user.id}/role`, `{"role":${deepArray}}`],
      ['post', `/api/workspaces/${ws}/memories`, `{"title":"t","content":"c","metadata":${deepObject}}`],
      ['post', '/api/auth/login', deepArray],
      ['post', '/api/mcp/remember', `{"text":"x","metadata":${deepObject}}`],
    ];
    for (const [method, path, body] of cases) {
      const r = await (app.http as any)[method](path).set(s.auth).set('Content-Type', 'application/json').send(body);
      expect(r.status, path).toBe(400);
      expect(r.body).toEqual({ ok: false, data: null, error: 'Request body nested deeper than 64 levels' });
    }
    // ordinary nesting is untouched
    const ok = await app.http.post(`/api/workspaces/${ws}/memories`).set(s.auth).send({ title: 't', content: 'c', metadata: { a: { b: { c: [1, [2, [3]]] } } } });
    expect(ok.status).toBe(201);
  });

  it('accepts a trailing slash', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const r = await app.http.get('/api/auth/profile/').set(s.auth);
    expect(r.status).toBe(200);
    expect((await app.http.get('/api/health/')).status).toBe(200);
  });

  it('malformed JSON → 400; oversized body → 413; both enveloped', async () => {
    const app = ctx();
    const bad = await app.http.post('/api/auth/login').set('Content-Type', 'application/json').send('{"email": ');
    expect(bad.status).toBe(400);
    expect(bad.body.ok).toBe(false);
    expect(bad.body.error).toMatch(/^JSON parse error - /);
    const big = await app.http.post('/api/auth/login').set('Content-Type', 'application/json').send(JSON.stringify({ email: 'x'.repeat(2_000_000) }));
    expect(big.status).toBe(413);
    expect(big.body).toEqual({ ok: false, data: null, error: 'Request body too large' });
  });

  it('a body-less POST with Content-Type: application/json counts as {} (the frontend sends these)', async () => {
    const app = ctx();
    const r = await app.http.post('/api/auth/refresh').set('Content-Type', 'application/json');
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('Refresh token required');
  });

  it('a JSON route sent a body of another media type answers 415 naming application/json, after authentication', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const before = await app.deps.prisma.workspace.count({ where: { ownerId: s.user.id } });
    const plain = await app.http.post('/api/workspaces').set(s.auth).set('Content-Type', 'text/plain; charset=utf-8').send('{"name":"Plain"}');
    expect(plain.status).toBe(415);
    expect(plain.body).toEqual({ ok: false, data: null, error: 'Unsupported media type "text/plain": send application/json' });
    const login = await app.http.post('/api/auth/login').set('Content-Type', 'text/plain').send(JSON.stringify({ email: s.user.email, password: s.password }));
    expect(login.status).toBe(415);
    expect(login.body.error).toBe('Unsupported media type "text/plain": send application/json');
    const xml = await app.http.put('/api/settings/profile').set(s.auth).set('Content-Type', 'application/xml').send('<name>X</name>');
    expect(xml.status).toBe(415);
    // multipart is for the file import only
    const multipart = await app.http.post('/api/workspaces').set(s.auth).field('name', 'Multipart');
    expect(multipart.status).toBe(415);
    expect(multipart.body.error).toBe('Unsupported media type "multipart/form-data": send application/json');
    const untyped = await app.http.post('/api/workspaces').set(s.auth).send(Buffer.from('{"name":"Untyped"}'));
    expect(untyped.status).toBe(415);
    expect(untyped.body.error).toBe('Missing Content-Type: send application/json');
    expect(await app.deps.prisma.workspace.count({ where: { ownerId: s.user.id } })).toBe(before);
    // authentication first, as for every other refusal of a signed-in route
    const anon = await app.http.post('/api/workspaces').set('Content-Type', 'text/plain').send('x');
    expect(anon.status).toBe(401);
    // an empty body is no body, whatever its Content-Type; JSON variants and forms still parse
    const empty = await app.http.post('/api/auth/refresh').set('Content-Type', 'text/plain').send('');
    expect(empty.status).toBe(400);
    expect(empty.body.error).toBe('Refresh token required');
    const vendor = await app.http.post('/api/workspaces').set(s.auth).set('Content-Type', 'application/vnd.api+json').send('{"name":"Vendor"}');
    expect(vendor.status).toBe(201);
    const form = await app.http.post('/api/workspaces').set(s.auth).type('form').send({ name: 'Form' });
    expect(form.status).toBe(201);
  });

  it('form-encoded bodies are accepted too', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const r = await app.http.post('/api/auth/login').type('form').send({ email: s.user.email, password: s.password });
    expect(r.status).toBe(200);
  });

  it('CORS: allowed origins are echoed with credentials; preflight answers; others get no CORS headers', async () => {
    const app = ctx();
    const pre = await app.http
      .options('/api/workspaces')
      .set('Origin', 'http://localhost:5173')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization,content-type');
    expect(pre.status).toBeLessThan(300);
    expect(pre.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(pre.headers['access-control-allow-credentials']).toBe('true');
    expect(pre.headers['access-control-allow-methods']).toContain('DELETE');
    expect(pre.headers['access-control-allow-headers']).toContain('authorization');
    expect(pre.headers['access-control-max-age']).toBe('86400');
    const evil = await app.http.get('/api/health').set('Origin', 'https://evil.example');
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('security headers: no x-powered-by, nosniff, a request id', async () => {
    const r = await ctx().http.get('/api/health');
    expect(r.headers['x-powered-by']).toBeUndefined();
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['x-request-id']).toMatch(/^[\w-]+$/);
  });

  it('GETs carry an ETag; a matching If-None-Match gets 304', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const first = await app.http.get('/api/auth/profile').set(s.auth);
    expect(first.headers.etag).toBeTruthy();
    const second = await app.http.get('/api/auth/profile').set(s.auth).set('If-None-Match', first.headers.etag!);
    expect(second.status).toBe(304);
  });

  it('health reports the database, version and uptime', async () => {
    const r = await ctx().http.get('/api/health');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      ok: true,
      error: null,
      data: { status: 'healthy', database: 'connected', version: expect.any(String), uptimeSeconds: expect.any(Number), databaseLatencyMs: expect.any(Number), storage: ctx().storage },
    });
    // event-loop delay of the serving process, for operators and the soak test
    expect(r.body.data.eventLoop).toEqual({
      status: 'ok',
      windowSeconds: expect.any(Number),
      delayMs: { mean: expect.any(Number), p50: expect.any(Number), p99: expect.any(Number), max: expect.any(Number) },
      utilization: expect.any(Number),
    });
    expect(r.body.data.eventLoop.utilization).toBeGreaterThanOrEqual(0);
    expect(r.body.data.eventLoop.utilization).toBeLessThanOrEqual(1);
  });
});
