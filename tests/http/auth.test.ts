import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { expect, it } from 'vitest';
import { delayAfter, FIRST_DELAY_MS } from '../../src/http/middleware/rate-limit.js';
import { describeEachStorage, TEST_ENV, type TestApp } from '../support/app.js';
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

  const status = async (app: TestApp, token: string) => (await app.http.get('/api/auth/profile').set('Authorization', `Bearer ${token}`)).status;
  const login = async (app: TestApp, email: string, password: string) => {
    const res = await app.http.post('/api/auth/login').send({ email, password });
    expect(res.status).toBe(200);
    return res.body.data as { token: string; refresh: string };
  };

  it('tokens carry their session and the time of the password sign-in, kept across refreshes', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const access = jwt.decode(s.token) as Record<string, number | string>;
    const refresh = jwt.decode(s.refresh) as Record<string, number | string>;
    expect(access.fam).toEqual(expect.any(String));
    expect(refresh.fam).toBe(access.fam);
    expect(Math.abs((access.auth_time as number) - Date.now() / 1000)).toBeLessThan(5);
    const rotated = (await app.http.post('/api/auth/refresh').send({ refresh: s.refresh })).body.data;
    const next = jwt.decode(rotated.token) as Record<string, number | string>;
    expect(next).toMatchObject({ fam: access.fam, auth_time: access.auth_time });
    expect((jwt.decode(rotated.refresh) as Record<string, unknown>).auth_time).toBe(access.auth_time);
    const other = await login(app, s.user.email, s.password);
    expect((jwt.decode(other.token) as Record<string, unknown>).fam).not.toBe(access.fam);
  });

  it('refresh-token reuse ends the session: its access tokens die too, other sessions live on', async () => {
    const app = ctx();
    const victim = await registerUser(app);
    const elsewhere = await login(app, victim.user.email, victim.password);
    // The victim rotates; an attacker replays the stolen refresh token.
    const rotated = (await app.http.post('/api/auth/refresh').send({ refresh: victim.refresh })).body.data;
    expect(await status(app, rotated.token)).toBe(200);
    expect((await app.http.post('/api/auth/refresh').send({ refresh: victim.refresh })).status).toBe(401);
    for (const token of [victim.token, rotated.token]) {
      const res = await app.http.get('/api/auth/profile').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ ok: false, data: null, error: 'Given token not valid for any token type' });
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api", error="invalid_token", error_description="The access token was revoked"');
    }
    // Nor can the attacker's access token take the account over.
    const takeover = await app.http.put('/api/settings/profile').set(victim.auth).send({ name: 'Owned', email: uniqueEmail('attacker') });
    expect(takeover.status).toBe(401);
    expect(await status(app, elsewhere.token)).toBe(200);
  });

  it('logout with no body ends the session of the presented token: every access and refresh token of it', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const rotated = (await app.http.post('/api/auth/refresh').send({ refresh: s.refresh })).body.data;
    const elsewhere = await login(app, s.user.email, s.password);
    expect((await app.http.post('/api/auth/logout').set('Authorization', `Bearer ${rotated.token}`)).status).toBe(200);
    expect(await status(app, s.token)).toBe(401); // issued to the same session before the rotation
    expect(await status(app, rotated.token)).toBe(401);
    expect((await app.http.post('/api/auth/refresh').send({ refresh: rotated.refresh })).status).toBe(401);
    expect(await status(app, elsewhere.token)).toBe(200);
  });

  it('logout-all ends every session of the caller, and a sign-in right after works', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const other = await registerUser(app);
    const second = await login(app, s.user.email, s.password);
    const out = await app.http.post('/api/auth/logout-all').set(s.auth);
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ ok: true, data: { message: 'Logged out of every session' }, error: null });
    for (const token of [s.token, second.token]) expect(await status(app, token)).toBe(401);
    for (const refresh of [s.refresh, second.refresh]) expect((await app.http.post('/api/auth/refresh').send({ refresh })).status).toBe(401);
    expect(await status(app, other.token)).toBe(200);
    // Within the same second as the cut-off: the new session must not fall before it.
    const again = await login(app, s.user.email, s.password);
    expect(await status(app, again.token)).toBe(200);
    const refreshed = await app.http.post('/api/auth/refresh').send({ refresh: again.refresh });
    expect(refreshed.status).toBe(200);
    expect(await status(app, refreshed.body.data.token)).toBe(200);
    expect((await app.http.post('/api/auth/logout-all')).status).toBe(401);
  });

  it('password change: checks the current password and the register rules, ends every session, returns a new one', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const second = await login(app, s.user.email, s.password);
    const change = (body: object, auth = s.auth) => app.http.post('/api/auth/password').set(auth).send(body);
    const wrong = await change({ currentPassword: 'not my password', newPassword: 'a brand new password' });
    expect([wrong.status, wrong.body.error]).toEqual([400, { currentPassword: ['Current password is incorrect'] }]);
    const weak = await change({ currentPassword: s.password, newPassword: ' short ' });
    expect([weak.status, weak.body.error]).toEqual([400, { newPassword: ['Ensure this field has at least 8 characters.'] }]);
    const missing = await change({});
    expect(missing.body.error).toEqual({ currentPassword: ['This field is required.'], newPassword: ['This field is required.'] });
    expect(await status(app, s.token)).toBe(200); // refusals change nothing

    const ok = await change({ currentPassword: s.password, newPassword: 'a brand new password' });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ ok: true, error: null, data: { message: 'Password changed', token: expect.any(String), refresh: expect.any(String) } });
    for (const token of [s.token, second.token]) expect(await status(app, token)).toBe(401);
    for (const refresh of [s.refresh, second.refresh]) expect((await app.http.post('/api/auth/refresh').send({ refresh })).status).toBe(401);
    expect(await status(app, ok.body.data.token)).toBe(200);
    expect((await app.http.post('/api/auth/refresh').send({ refresh: ok.body.data.refresh })).status).toBe(200);
    // The new session counts as a fresh sign-in.
    const fresh = { Authorization: `Bearer ${ok.body.data.token}` };
    const email = uniqueEmail('moved');
    expect((await app.http.put('/api/auth/profile/update').set(fresh).send({ email })).body.data.email).toBe(email);
    expect((await app.http.post('/api/auth/login').send({ email, password: s.password })).status).toBe(401);
    expect((await app.http.post('/api/auth/login').send({ email, password: 'a brand new password' })).status).toBe(200);
  });

  it('refuses access tokens without exp, and without iat', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const claims = { token_type: 'access', user_id: s.user.id, jti: randomUUID().replace(/-/g, '') };
    const forever = jwt.sign(claims, TEST_ENV.JWT_SECRET!, { algorithm: 'HS256' });
    const timeless = jwt.sign({ ...claims, exp: Math.floor(Date.now() / 1000) + 600 }, TEST_ENV.JWT_SECRET!, { algorithm: 'HS256', noTimestamp: true });
    for (const token of [forever, timeless]) {
      const res = await app.http.get('/api/auth/profile').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('Given token not valid for any token type');
    }
    const refresh = jwt.sign({ ...claims, token_type: 'refresh', fam: 'x' }, TEST_ENV.JWT_SECRET!, { algorithm: 'HS256' });
    expect((await app.http.post('/api/auth/refresh').send({ refresh })).status).toBe(401);
  });

  it('401s carry RFC 6750 detail: none without credentials, expired apart from invalid', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const challenge = async (auth: string | null) => {
      let req = app.http.get('/api/workspaces');
      if (auth !== null) req = req.set('Authorization', auth);
      const res = await req;
      expect(res.status).toBe(401);
      return [res.body.error, res.headers['www-authenticate']];
    };
    expect(await challenge(null)).toEqual(['Authentication credentials were not provided.', 'Bearer realm="api"']);
    expect(await challenge(`Basic ${Buffer.from('a:b').toString('base64')}`)).toEqual(['Authentication credentials were not provided.', 'Bearer realm="api"']);
    expect(await challenge('Bearer a b')).toEqual([
      'Authorization header must contain two space-delimited values',
      'Bearer realm="api", error="invalid_request", error_description="Authorization header must contain two space-delimited values"',
    ]);
    const expired = jwt.sign({ token_type: 'access', user_id: s.user.id, jti: 'e1', exp: Math.floor(Date.now() / 1000) - 10 }, TEST_ENV.JWT_SECRET!);
    expect(await challenge(`Bearer ${expired}`)).toEqual([
      'Given token not valid for any token type',
      'Bearer realm="api", error="invalid_token", error_description="The access token expired"',
    ]);
    const forged = jwt.sign({ token_type: 'access', user_id: s.user.id, jti: 'f1' }, 'another-secret-another-secret-another', { expiresIn: 60 });
    for (const token of [forged, 'garbage', s.refresh]) {
      expect(await challenge(`Bearer ${token}`)).toEqual([
        'Given token not valid for any token type',
        'Bearer realm="api", error="invalid_token", error_description="The access token is invalid"',
      ]);
    }
    await app.http.post('/api/auth/logout').set(s.auth);
    expect(await challenge(`Bearer ${s.token}`)).toEqual([
      'Given token not valid for any token type',
      'Bearer realm="api", error="invalid_token", error_description="The access token was revoked"',
    ]);
    const gone = await registerUser(app);
    await app.deps.prisma.user.delete({ where: { id: gone.user.id } });
    expect(await challenge(`Bearer ${gone.token}`)).toEqual([
      'User not found',
      'Bearer realm="api", error="invalid_token", error_description="The user of this token no longer exists"',
    ]);
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

const PER_EMAIL = 3;
const MAX_DELAY_MS = 400;

describeEachStorage(
  'auth rate limits',
  (ctx) => {
    // Through the default TRUST_PROXY (loopback), X-Forwarded-For names the client address.
    const attempt = (email: string, password: string, address: string) =>
      ctx().http.post('/api/auth/login').set('X-Forwarded-For', address).send({ email, password });
    let net = 0;
    /** A client address of this test's own (the counters outlive a test). */
    const address = () => `198.51.100.${++net}`;

    it("refuses an account's failed logins from one address past the cap, in a 429 envelope", async () => {
      const s = await registerUser(ctx());
      const from = address();
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await attempt(s.user.email, 'wrong-password', from)).status);
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      const blocked = await attempt(s.user.email, s.password, from);
      expect(blocked.status).toBe(429);
      expect(blocked.body).toEqual({ ok: false, data: null, error: 'Too many attempts. Please try again later.' });
    });

    it('nobody can lock a user out: failures from many addresses leave the owner able to sign in', async () => {
      const s = await registerUser(ctx());
      // 10 wrong passwords from 10 addresses (before, the 4th already locked the account for everyone)
      for (let n = 0; n < 10; n++) expect((await attempt(s.user.email, 'wrong-password', address())).status).toBe(401);
      const started = performance.now();
      const owner = await attempt(s.user.email, s.password, address());
      expect(owner.status).toBe(200);
      // slowed down by the failures from everywhere, never refused
      expect(performance.now() - started).toBeGreaterThanOrEqual(MAX_DELAY_MS - 20);
    });

    it('only failures count: a user signing in often is never limited', async () => {
      const s = await registerUser(ctx());
      const from = address();
      for (let i = 0; i < PER_EMAIL * 3; i++) expect((await attempt(s.user.email, s.password, from)).status).toBe(200);
      expect((await attempt(s.user.email, 'wrong-password', from)).status).toBe(401);
    });

    it('failures for one account from all addresses slow its logins down, doubling up to the maximum', async () => {
      expect([2, 3, 4, 5, 6].map((n) => delayAfter(n, { perEmail: PER_EMAIL, maxDelayMs: MAX_DELAY_MS }))).toEqual([0, FIRST_DELAY_MS, MAX_DELAY_MS, MAX_DELAY_MS, MAX_DELAY_MS]);
      const email = uniqueEmail('spread');
      const times: number[] = [];
      for (let i = 0; i < PER_EMAIL + 2; i++) {
        const started = performance.now();
        expect((await attempt(email, 'wrong-password', address())).status).toBe(401);
        times.push(performance.now() - started);
      }
      expect(times[PER_EMAIL]).toBeGreaterThanOrEqual(FIRST_DELAY_MS - 20);
      expect(times[PER_EMAIL + 1]).toBeGreaterThanOrEqual(MAX_DELAY_MS - 20);
    });

    it('wrong current passwords count against the same limits as logins', async () => {
      const s = await registerUser(ctx());
      const from = address();
      const change = () => ctx().http.post('/api/auth/password').set(s.auth).set('X-Forwarded-For', from).send({ currentPassword: 'guess', newPassword: 'whatever it is' });
      expect((await change()).status).toBe(400);
      expect((await attempt(s.user.email, 'wrong-password', from)).status).toBe(401);
      const email = () => ctx().http.put('/api/settings/profile').set(s.auth).set('X-Forwarded-For', from).send({ email: uniqueEmail(), currentPassword: 'guess' });
      expect((await email()).status).toBe(403);
      expect((await change()).status).toBe(429);
      expect((await email()).status).toBe(429);
      expect((await attempt(s.user.email, s.password, from)).status).toBe(429);
    });
  },
  { AUTH_RATE_LIMIT_PER_EMAIL: String(PER_EMAIL), AUTH_RATE_LIMIT_PER_IP: '100', AUTH_RATE_LIMIT_MAX_DELAY: `${MAX_DELAY_MS}ms` },
);
