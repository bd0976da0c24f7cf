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
  });
});
