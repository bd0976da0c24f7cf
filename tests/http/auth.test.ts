import jwt from 'jsonwebtoken';
import { expect, it } from 'vitest';
import { describeEachStorage, TEST_ENV } from '../support/app.js';
import { registerUser, uniqueEmail } from '../support/factories.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

describeEachStorage('auth', (ctx) => {
  it('registers: 201 with token, refresh and the user; email lower-cased and trimmed; default workspace created', async () => {
    const app = ctx();
    const email = uniqueEmail('Ada').toUpperCase();
    const res = await app.http.post('/api/auth/register').send({ name: '  Ada  ', email: `  ${email} `, password: ' password123 ' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      ok: true,
      error: null,
      data: {
        token: expect.any(String),
        refresh: expect.any(String),
        user: { id: expect.stringMatching(/^[0-9a-f-]{36}$/), name: 'Ada', email: email.toLowerCase(), avatar: null, createdAt: expect.stringMatching(ISO) },
      },
    });
    const claims = jwt.decode(res.body.data.token) as Record<string, unknown>;
    expect(claims).toMatchObject({ token_type: 'access', user_id: res.body.data.user.id });
    expect(claims.exp as number).toBeGreaterThan(Date.now() / 1000 + 23 * 3600);
    const workspaces = await app.deps.prisma.workspace.findMany({ where: { ownerId: res.body.data.user.id }, include: { members: true } });
    expect(workspaces).toHaveLength(1);
    expect(workspaces[0]!.name).toBe("Ada's Workspace");
    expect(workspaces[0]!.members).toMatchObject([{ role: 'admin', status: 'online' }]);
    // password was trimmed, as DRF does
    const login = await app.http.post('/api/auth/login').send({ email, password: 'password123' });
    expect(login.status).toBe(200);
  });

  it('refuses a duplicate email differing only in case, leaving no partial rows', async () => {
    const app = ctx();
    const email = uniqueEmail('dup');
    await registerUser(app, { email });
    const before = await app.deps.prisma.workspace.count();
    const res = await app.http.post('/api/auth/register').send({ name: 'X', email: email.toUpperCase(), password: 'password123' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ ok: false, data: null, error: { email: ['Email already exists'] } });
    expect(await app.deps.prisma.workspace.count()).toBe(before);
  });

  it('two concurrent registrations of one email create one user', async () => {
    const app = ctx();
    const email = uniqueEmail('race');
    const results = await Promise.all(
      [1, 2, 3].map(() => app.http.post('/api/auth/register').send({ name: 'R', email, password: 'password123' })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 400, 400]);
    expect(await app.deps.prisma.user.count({ where: { email } })).toBe(1);
    expect(await app.deps.prisma.workspace.count({ where: { owner: { email } } })).toBe(1);
  });

  it.each([
    [{}, { name: ['This field is required.'], email: ['This field is required.'], password: ['This field is required.'] }],
    [{ name: '', email: 'a@b.co', password: 'password123' }, { name: ['This field may not be blank.'] }],
    [{ name: null, email: 'a@b.co', password: 'password123' }, { name: ['This field may not be null.'] }],
    [{ name: 5, email: 'nope', password: 'short' }, { name: ['Not a valid string.'], email: ['Enter a valid email address.'], password: ['Ensure this field has at least 8 characters.'] }],
    [{ name: 'x'.repeat(256), email: 'a@b.co', password: 'password123' }, { name: ['Ensure this field has no more than 255 characters.'] }],
    [{ name: ['a'], email: { a: 1 }, password: true }, { name: ['Not a valid string.'], email: ['Enter a valid email address.'], password: ['Not a valid string.'] }],
  ])('register validation %#', async (body, error) => {
    const res = await ctx().http.post('/api/auth/register').send(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ ok: false, data: null, error });
  });

  it.each([
    ['[]', 'list'],
    ['"x"', 'str'],
    ['null', 'NoneType'],
    ['42', 'int'],
  ])('non-object body %s → non_field_errors', async (raw, type) => {
    const res = await ctx().http.post('/api/auth/register').set('Content-Type', 'application/json').send(raw);
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ non_field_errors: [`Invalid data. Expected a dictionary, but got ${type}.`] });
  });

  it('survives 1 MB strings, emoji and SQL-ish input without a 500', async () => {
    const app = ctx();
    const big = 'a'.repeat(400_000);
    const r1 = await app.http.post('/api/auth/register').send({ name: big, email: 'a@b.co', password: big });
    expect(r1.status).toBe(400);
    const huge = await app.http.post('/api/auth/register').send({ name: 'a'.repeat(1_100_000), email: 'a@b.co', password: 'password123' });
    expect(huge.status).toBe(413);
    expect(huge.body).toEqual({ ok: false, data: null, error: 'Request body too large' });
    const r2 = await app.http.post('/api/auth/login').send({ email: "x' OR 1=1 --@x.io", password: "' OR '1'='1" });
    expect([400, 401]).toContain(r2.status);
    const emoji = await registerUser(app, { name: '🧠 Zoë ناصر', email: uniqueEmail('emoji') });
    expect(emoji.user.name).toBe('🧠 Zoë ناصر');
    const nul = await app.http.post('/api/auth/register').send({ name: 'a\u0000b', email: uniqueEmail(), password: 'password123' });
    expect(nul.status).toBe(400);
  });

  it('logs in with any email case; same 401 for unknown email and wrong password', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const ok = await app.http.post('/api/auth/login').send({ email: s.user.email.toUpperCase(), password: s.password });
    expect(ok.status).toBe(200);
    expect(ok.body.data).toMatchObject({ token: expect.any(String), refresh: expect.any(String), user: s.user });
    const wrong = await app.http.post('/api/auth/login').send({ email: s.user.email, password: 'wrong password' });
    const unknown = await app.http.post('/api/auth/login').send({ email: uniqueEmail(), password: 'wrong password' });
    for (const r of [wrong, unknown]) {
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ ok: false, data: null, error: 'Invalid credentials' });
    }
    const bad = await app.http.post('/api/auth/login').send({ email: 'not-an-email' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toEqual({ email: ['Enter a valid email address.'], password: ['This field is required.'] });
  });

  it('profile: 200 with a token; the 401 texts of the contract otherwise', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const me = await app.http.get('/api/auth/profile').set(s.auth);
    expect(me.status).toBe(200);
    expect(me.body.data).toEqual(s.user);

    const none = await app.http.get('/api/auth/profile');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="api"');
    expect(none.body.error).toBe('Authentication credentials were not provided.');

    const malformed = await app.http.get('/api/auth/profile').set('Authorization', 'Bearer a b');
    expect(malformed.body.error).toBe('Authorization header must contain two space-delimited values');

    const other = jwt.sign({ token_type: 'access', user_id: s.user.id, jti: 'x' }, 'another-secret-another-secret-another', { expiresIn: 60 });
    const expired = jwt.sign({ token_type: 'access', user_id: s.user.id, jti: 'y', exp: Math.floor(Date.now() / 1000) - 10 }, TEST_ENV.JWT_SECRET!);
    const none_alg = jwt.sign({ token_type: 'access', user_id: s.user.id, jti: 'z' }, '', { algorithm: 'none' });
    for (const token of [other, expired, s.refresh, none_alg, 'garbage']) {
      const r = await app.http.get('/api/auth/profile').set('Authorization', `Bearer ${token}`);
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ ok: false, data: null, error: 'Given token not valid for any token type' });
    }
  });

  it('a token of a deleted user gets 401 User not found', async () => {
    const app = ctx();
    const s = await registerUser(app);
    await app.deps.prisma.user.delete({ where: { id: s.user.id } });
    const r = await app.http.get('/api/auth/profile').set(s.auth);
    expect(r.status).toBe(401);
    expect(r.body.error).toBe('User not found');
  });

  it('refresh rotates; reusing a refresh token revokes the family', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const r1 = await app.http.post('/api/auth/refresh').send({ refresh: s.refresh });
    expect(r1.status).toBe(200);
    expect(r1.body.data).toEqual({ token: expect.any(String), refresh: expect.any(String) });
    expect((await app.http.get('/api/auth/profile').set('Authorization', `Bearer ${r1.body.data.token}`)).status).toBe(200);

    const reuse = await app.http.post('/api/auth/refresh').send({ refresh: s.refresh });
    expect(reuse.status).toBe(401);
    expect(reuse.body.error).toBe('Invalid or expired refresh token');
    // the whole family is dead now, including the newest token
    const after = await app.http.post('/api/auth/refresh').send({ refresh: r1.body.data.refresh });
    expect(after.status).toBe(401);

    const missing = await app.http.post('/api/auth/refresh').send({});
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('Refresh token required');
    const access = await app.http.post('/api/auth/refresh').send({ refresh: s.token });
    expect(access.status).toBe(401);
  });

  it('concurrent refreshes with one token: exactly one succeeds', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const results = await Promise.all([1, 2, 3, 4].map(() => app.http.post('/api/auth/refresh').send({ refresh: s.refresh })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
  });

  it('logout (no body, as the frontend sends) revokes the access token; with refresh revokes it too', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const out = await app.http.post('/api/auth/logout').set(s.auth).set('Content-Type', 'application/json');
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ ok: true, data: { message: 'Successfully logged out' }, error: null });
    const again = await app.http.get('/api/auth/profile').set(s.auth);
    expect(again.status).toBe(401);

    const login = await app.http.post('/api/auth/login').send({ email: s.user.email, password: s.password });
    const { token, refresh } = login.body.data;
    const bad = await app.http.post('/api/auth/logout').set('Authorization', `Bearer ${token}`).send({ refresh: 'nope' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('Token is invalid or expired');
    const good = await app.http.post('/api/auth/logout').set('Authorization', `Bearer ${token}`).send({ refresh });
    expect(good.status).toBe(200);
    expect((await app.http.post('/api/auth/refresh').send({ refresh })).status).toBe(401);
  });

  it('profile update applies truthy fields and keeps emails unique', async () => {
    const app = ctx();
    const a = await registerUser(app);
    const b = await registerUser(app);
    const r = await app.http.put('/api/auth/profile/update').set(a.auth).send({ name: 'New Name', email: '' });
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({ name: 'New Name', email: a.user.email });
    const taken = await app.http.put('/api/auth/profile/update').set(a.auth).send({ email: b.user.email.toUpperCase() });
    expect(taken.status).toBe(400);
    expect(taken.body.error).toBe('Email already exists');
  });

  it('never writes a password or token into the logs', async () => {
    const app = ctx();
    const s = await registerUser(app, { password: 'very-secret-password-42' });
    await app.http.get('/api/auth/profile?token=abc').set(s.auth);
    await app.http.post('/api/auth/login').send({ email: s.user.email, password: 'very-secret-password-42' });
    const all = app.logs.join('\n');
    expect(all).toContain('/api/auth/profile');
    expect(all).not.toContain('very-secret-password-42');
    expect(all).not.toContain(s.token);
    expect(all).not.toContain(s.refresh);
  });
});

describeEachStorage(
  'auth rate limits',
  (ctx) => {
    it('limits login attempts per email with a 429 envelope', async () => {
      const app = ctx();
      const s = await registerUser(app);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        statuses.push((await app.http.post('/api/auth/login').send({ email: s.user.email, password: 'wrong-password' })).status);
      }
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      const blocked = await app.http.post('/api/auth/login').send({ email: s.user.email, password: s.password });
      expect(blocked.status).toBe(429);
      expect(blocked.body).toEqual({ ok: false, data: null, error: 'Too many attempts. Please try again later.' });
    });
  },
  { AUTH_RATE_LIMIT_PER_EMAIL: '3', AUTH_RATE_LIMIT_PER_IP: '100' },
);
