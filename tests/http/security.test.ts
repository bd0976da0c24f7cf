/**
 * Security headers on every kind of answer, CORS as configured, request size limits, and
 * no secret in the logs of a whole session (tests/http/conventions.test.ts covers the basics:
 * default origins, x-powered-by, the 1 MB JSON limit).
 */
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ENV, startTestApp, type TestApp } from '../support/app.js';
import { fakeKey } from '../support/chat.js';
import { type FakeProviders, startFakeProviders } from '../support/fake-providers.js';
import { registerUser, uniqueEmail } from '../support/factories.js';

/** POSTs exact bytes (supertest re-encodes Buffers sent as JSON). */
function rawPost(app: TestApp, path: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; text: string }> {
  const server = app.app.listen(0, '127.0.0.1');
  return new Promise((resolve, reject) => {
    server.once('listening', () => {
      const req = request({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, path, method: 'POST', headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          server.close();
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.on('error', (e) => {
        server.close();
        reject(e);
      });
      req.end(body);
    });
  });
}

/** helmet's defaults that matter for a JSON API, with the CSP of src/app.ts. */
function expectApiHeaders(headers: Record<string, string>, label: string) {
  expect(headers['x-powered-by'], label).toBeUndefined();
  expect(headers['x-content-type-options'], label).toBe('nosniff');
  expect(headers['content-security-policy'], label).toContain("default-src 'none'");
  expect(headers['content-security-policy'], label).toContain("frame-ancestors 'none'");
  expect(headers['x-frame-options'], label).toBe('SAMEORIGIN');
  expect(headers['referrer-policy'], label).toBe('no-referrer');
  expect(headers['cross-origin-opener-policy'], label).toBe('same-origin');
  expect(headers['x-dns-prefetch-control'], label).toBe('off');
  expect(headers['x-permitted-cross-domain-policies'], label).toBe('none');
  // TLS ends in front of the API when there is any: HSTS belongs there, not on plain HTTP.
  expect(headers['strict-transport-security'], label).toBeUndefined();
}

describe('security headers, CORS and size limits', () => {
  let app: TestApp;
  let star: TestApp;

  beforeAll(async () => {
    app = await startTestApp('pglite', { CORS_ORIGINS: 'https://app.example, https://admin.example:8443', BODY_LIMIT: '10kb' });
    star = await startTestApp('pglite', { CORS_ORIGINS: '*' });
  });
  afterAll(async () => {
    await app?.close();
    await star?.close();
  });

  it('every kind of answer carries the API headers: success, 401, 404, 405, 400, 413, docs, export', async () => {
    const s = await registerUser(app);
    const answers = {
      success: await app.http.get('/api/auth/profile').set(s.auth),
      unauthorized: await app.http.get('/api/auth/profile'),
      notFound: await app.http.get('/api/nope'),
      methodNotAllowed: await app.http.delete('/api/health'),
      badJson: await app.http.post('/api/auth/login').set('Content-Type', 'application/json').send('{'),
      tooLarge: await app.http.post('/api/auth/login').send({ email: 'x'.repeat(20_000) }),
      docs: await app.http.get('/api/docs'),
      export: await app.http.get('/api/export').set(s.auth),
    };
    for (const [label, res] of Object.entries(answers)) expectApiHeaders(res.headers as Record<string, string>, label);
    expect(answers.unauthorized.headers['www-authenticate']).toBe('Bearer realm="api"');
  });

  it('CORS follows CORS_ORIGINS: listed origins echoed (with Vary), others get no Access-Control-Allow-Origin, preflights included', async () => {
    for (const origin of ['https://app.example', 'https://admin.example:8443']) {
      const r = await app.http.get('/api/health').set('Origin', origin);
      expect(r.headers['access-control-allow-origin']).toBe(origin);
      expect(r.headers['access-control-allow-credentials']).toBe('true');
      expect(r.headers['access-control-expose-headers']).toContain('X-Request-Id');
      expect(r.headers.vary).toMatch(/Origin/i);
    }
    for (const origin of ['https://evil.example', 'http://app.example', 'https://app.example.evil.example', 'https://admin.example', 'null', 'http://localhost:5173']) {
      const r = await app.http.get('/api/health').set('Origin', origin);
      expect(r.headers['access-control-allow-origin'], origin).toBeUndefined();
      const pre = await app.http.options('/api/workspaces').set('Origin', origin).set('Access-Control-Request-Method', 'DELETE').set('Access-Control-Request-Headers', 'authorization');
      expect(pre.headers['access-control-allow-origin'], origin).toBeUndefined();
    }
    const pre = await app.http.options('/api/workspaces').set('Origin', 'https://app.example').set('Access-Control-Request-Method', 'DELETE').set('Access-Control-Request-Headers', 'authorization,content-type');
    expect(pre.status).toBeLessThan(300);
    expect(pre.headers['access-control-allow-origin']).toBe('https://app.example');
    // `*` reflects the caller's origin (credentials cannot be combined with a literal *)
    const any = await star.http.get('/api/health').set('Origin', 'https://anything.example');
    expect(any.headers['access-control-allow-origin']).toBe('https://anything.example');
  });

  it('BODY_LIMIT caps JSON, form and gzip-inflated bodies with the 413 envelope; below it passes', async () => {
    const tooLarge = { ok: false, data: null, error: 'Request body too large' };
    const json = await app.http.post('/api/auth/login').send({ email: 'a@example.test', password: 'p'.repeat(11_000) });
    expect(json.status, json.text).toBe(413);
    expect(json.body).toEqual(tooLarge);
    const form = await app.http.post('/api/auth/login').type('form').send(`email=a%40example.test&password=${'p'.repeat(11_000)}`);
    expect(form.status, form.text).toBe(413);
    expect(form.body).toEqual(tooLarge);
    // 11 KB of zeros gzip to a few dozen bytes: the limit applies to the inflated body
    const bomb = gzipSync(Buffer.from(JSON.stringify({ email: 'a@example.test', password: '0'.repeat(11_000) })));
    expect(bomb.length).toBeLessThan(1_000);
    const gz = await rawPost(app, '/api/auth/login', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, bomb);
    expect(gz.status).toBe(413);
    expect(JSON.parse(gz.text)).toEqual(tooLarge);
    // a body that is not the gzip it claims to be
    const notGzip = await rawPost(app, '/api/auth/login', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, Buffer.from('{"email":"a@example.test"}'));
    expect(notGzip.status).toBe(400);
    expect(JSON.parse(notGzip.text)).toEqual({ ok: false, data: null, error: 'Malformed compressed request body' });
    const truncated = await rawPost(app, '/api/auth/login', { 'content-type': 'application/json', 'content-encoding': 'deflate' }, deflateSync(Buffer.from('{"email":"a@example.test"}')).subarray(0, 8));
    expect(truncated.status).toBe(400);
    expect(JSON.parse(truncated.text).ok).toBe(false);
    const odd = await app.http.post('/api/auth/login').set('Content-Type', 'application/json').set('Content-Encoding', 'x-unknown').send('{}');
    expect(odd.status).toBe(415);
    expect(odd.body).toEqual({ ok: false, data: null, error: 'Unsupported content encoding' });
    const fine = await app.http.post('/api/auth/login').send({ email: 'nobody@example.test', password: 'password', padding: 'p'.repeat(9_000) });
    expect(fine.status).toBe(401);
  });

  it('a body that is not the brotli its Content-Encoding claims is a 400, like gzip and deflate; real brotli parses', async () => {
    const malformed = { ok: false, data: null, error: 'Malformed compressed request body' };
    const login = JSON.stringify({ email: 'nobody@example.test', password: 'password' });
    // plain text, a truncated stream and random bytes each fail inside the brotli decoder differently
    const bodies = [Buffer.from(login), brotliCompressSync(Buffer.from(login.repeat(20))).subarray(0, 12), Buffer.from('8b0580', 'hex'), Buffer.alloc(64, 0xff)];
    for (const body of bodies) {
      const r = await rawPost(app, '/api/auth/login', { 'content-type': 'application/json', 'content-encoding': 'br' }, body);
      expect(r.status, body.toString('hex')).toBe(400);
      expect(JSON.parse(r.text)).toEqual(malformed);
    }
    const good = await rawPost(app, '/api/auth/login', { 'content-type': 'application/json', 'content-encoding': 'br' }, brotliCompressSync(Buffer.from(login)));
    expect(good.status).toBe(401);
    const bomb = await rawPost(app, '/api/auth/login', { 'content-type': 'application/json', 'content-encoding': 'br' }, brotliCompressSync(Buffer.from(JSON.stringify({ email: 'a@example.test', password: '0'.repeat(11_000) }))));
    expect(bomb.status).toBe(413);
  });
});

describe('no secret in the logs', () => {
  let app: TestApp;
  let fake: FakeProviders;

  beforeAll(async () => {
    fake = await startFakeProviders();
    // trace: the most the server ever writes
    app = await startTestApp('postgres', { ...fake.env, LOG_LEVEL: 'trace' });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  it('a whole session — register, login, refresh, keys, chat, provider errors, logout — leaves no password, token or key in the log', async () => {
    const password = `pw-${uniqueEmail('secret')}`;
    const newPassword = `pw2-${uniqueEmail('secret')}`;
    const email = uniqueEmail('logs');
    const reg = await app.http.post('/api/auth/register').send({ name: 'Log Watcher', email, password });
    expect(reg.status).toBe(201);
    const { token, refresh } = reg.body.data as { token: string; refresh: string };
    const auth = { Authorization: `Bearer ${token}` };
    const login = await app.http.post('/api/auth/login').send({ email, password });
    const wrong = await app.http.post('/api/auth/login').send({ email, password: newPassword });
    expect(wrong.status).toBe(401);
    const rotated = await app.http.post('/api/auth/refresh').send({ refresh });
    expect(rotated.status).toBe(200);
    const reuse = await app.http.post('/api/auth/refresh').send({ refresh }); // reuse: the family is revoked
    expect(reuse.status).toBe(401);
    // tokens in odd places: query string, form body, a second header
    await app.http.get(`/api/auth/profile?token=${token}&refresh=${refresh}`).set(auth);
    await app.http.post('/api/auth/refresh').type('form').send({ refresh: login.body.data.refresh });
    await app.http.get('/api/auth/profile').set('Authorization', `Token ${token}`);

    const ok = fakeKey('ok');
    const failing = fakeKey('chat401'); // the fake provider echoes the key in its error message
    const bad = fakeKey('badkey');
    const session = login.body.data as { token: string; refresh: string };
    const sauth = { Authorization: `Bearer ${session.token}` };
    const created = await app.http.post('/api/integrations').set(sauth).send({ provider: 'openai', apiKey: ok.apiKey });
    expect(created.status).toBe(201);
    const anth = await app.http.post('/api/integrations').set(sauth).send({ provider: 'anthropic', apiKey: failing.apiKey });
    expect(anth.status).toBe(201);
    await app.http.post('/api/integrations').set(sauth).send({ provider: 'groq', apiKey: bad.apiKey }); // the live test fails
    await app.http.post(`/api/integrations/${created.body.data.id}/test`).set(sauth);
    const ws = (await app.http.post('/api/workspaces').set(sauth).send({ name: 'Logs' })).body.data.id as string;
    const gpt = (await app.http.post(`/api/workspaces/${ws}/conversations`).set(sauth).send({ modelId: 'gpt-4o' })).body.data.id as string;
    const claude = (await app.http.post(`/api/workspaces/${ws}/conversations`).set(sauth).send({ modelId: 'claude-3.5-sonnet' })).body.data.id as string;
    expect((await app.http.post(`/api/conversations/${gpt}/messages`).set(sauth).send({ content: 'hello' })).status).toBe(201);
    const failed = await app.http.post(`/api/conversations/${claude}/messages`).set(sauth).send({ content: 'hello' });
    expect(failed.status).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(failed.body)).not.toContain(failing.apiKey);
    await app.http.put(`/api/integrations/${created.body.data.id}`).set(sauth).send({ apiKey: `${ok.apiKey}-rotated` });
    await app.http.post('/api/auth/logout').set(sauth).send({ refresh: session.refresh });
    await app.http.get('/api/auth/profile').set(sauth); // revoked token
    await app.http.post('/api/auth/register').send({ name: 'Dup', email, password }); // duplicate email, password in the body
    const last = (await app.http.post('/api/auth/login').send({ email, password })).body.data as { token: string };
    const lastAuth = { Authorization: `Bearer ${last.token}` };
    await app.http.put('/api/settings/profile').set(lastAuth).send({ email: uniqueEmail('moved'), currentPassword: newPassword }); // wrong current password
    expect((await app.http.post('/api/auth/password').set(lastAuth).send({ currentPassword: password, newPassword })).status).toBe(200);

    const log = app.logs.join('\n');
    expect(log).toContain('/api/auth/login'); // the requests were logged at all
    const secrets: Record<string, string> = {
      password,
      newPassword,
      token,
      refresh,
      sessionToken: session.token,
      sessionRefresh: session.refresh,
      rotatedRefresh: rotated.body.data.refresh,
      okKey: ok.apiKey,
      failingKey: failing.apiKey,
      badKey: bad.apiKey,
      jwtSecret: TEST_ENV.JWT_SECRET!,
      encryptionKey: TEST_ENV.ENCRYPTION_KEY!,
    };
    for (const [name, secret] of Object.entries(secrets)) expect(log.includes(secret), `${name} in the log`).toBe(false);
    // no JWT of any kind, and no key-shaped value beyond its masked form
    expect(log).not.toMatch(/eyJ[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,}/);
    expect(log).not.toMatch(/sk-(?:ok|chat401|badkey)-[0-9a-f]{12}/);
  });
});

describe('/mcp behind a public host name (PUBLIC_HOSTS)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp('pglite', { CORS_ORIGINS: 'https://app.example', PUBLIC_HOSTS: 'api.example, https://mcp.example:8443' });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('accepts its configured host names with any port, and only the configured origins', async () => {
    const s = await registerUser(app);
    const call = (host: string, origin?: string) => {
      let req = app.http.post('/mcp').set(s.auth).set('Accept', 'application/json, text/event-stream').set('Host', host);
      if (origin) req = req.set('Origin', origin);
      return req.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    };
    for (const host of ['api.example', 'API.example:443', 'mcp.example', 'localhost:8000']) expect((await call(host)).status, host).toBe(200);
    expect((await call('api.example', 'https://app.example')).status).toBe(200);
    expect((await call('api.example', 'https://api.example')).status).toBe(200); // the server's own page
    expect((await call('evil.example')).body.error).toBe('Host not allowed');
    expect((await call('api.example.evil.example')).body.error).toBe('Host not allowed');
    expect((await call('api.example', 'http://localhost:5173')).body.error).toBe('Origin not allowed'); // not in CORS_ORIGINS here
  });
});
