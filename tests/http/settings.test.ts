import jwt from 'jsonwebtoken';
import { expect, it } from 'vitest';
import { newId } from '../../src/lib/ids.js';
import { presentCleanupInfo } from '../../src/presenters/settings.js';
import { nextCleanup, sweepExpiredContent } from '../../src/services/settings/retention.js';
import { describeEachStorage, TEST_ENV, type TestApp } from '../support/app.js';
import { sleep } from '../support/processes.js';
import { registerUser, uniqueEmail } from '../support/factories.js';

const DAY = 86_400_000;

async function defaultWorkspace(app: TestApp, userId: string) {
  return app.deps.prisma.workspace.findFirstOrThrow({ where: { ownerId: userId } });
}

/** Content of a given age: a conversation with `messages` messages and a memory, both last updated `daysAgo`. */
async function seedAged(app: TestApp, workspaceId: string, daysAgo: number, messages = 2) {
  const at = new Date(Date.now() - daysAgo * DAY);
  const conv = await app.deps.prisma.conversation.create({ data: { id: newId('conv'), workspaceId, title: `c${daysAgo}`, modelId: 'model-gpt-4o' } });
  for (let i = 0; i < messages; i++) {
    await app.deps.prisma.chatMessage.create({ data: { id: newId('msg'), conversationId: conv.id, role: 'user', content: `m${i}`, timestamp: at } });
  }
  const mem = await app.deps.prisma.memory.create({ data: { id: newId('memory'), workspaceId, title: `m${daysAgo}`, content: 'x', snippet: 'x' } });
  // updatedAt is @updatedAt, so the age is written with raw SQL after creation.
  await app.deps.prisma.$executeRaw`UPDATE conversations SET updated_at = ${at} WHERE id = ${conv.id}`;
  await app.deps.prisma.$executeRaw`UPDATE memories SET updated_at = ${at} WHERE id = ${mem.id}`;
  return { conv, mem };
}

describeEachStorage('settings, retention, export, account', (ctx) => {
  it('S1–S3: reads and updates settings; autoStore is stored; retention values validated', async () => {
    const app = ctx();
    const s = await registerUser(app, { name: 'Ada' });
    const get = await app.http.get('/api/settings').set(s.auth);
    expect(get.body).toEqual({ ok: true, error: null, data: { profile: { name: 'Ada', email: s.user.email }, memoryRetention: { autoStore: true, retentionPeriod: 'indefinite-84' } } });
    const put = await app.http.put('/api/settings/memory-retention').set(s.auth).send({ autoStore: false, retentionPeriod: '30-days' });
    expect(put.body.data.memoryRetention).toEqual({ autoStore: false, retentionPeriod: '30-days' });
    expect(await app.deps.prisma.user.findUniqueOrThrow({ where: { id: s.user.id } })).toMatchObject({ autoStore: false, retentionPeriod: '30-days' });
    const bad = await app.http.put('/api/settings/memory-retention').set(s.auth).send({ retentionPeriod: 'forever' });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ ok: false, data: null, error: 'Invalid retention period. Must be one of: 7-days, 30-days, 90-days, indefinite-84, indefinite-forever' });
    const badFlag = await app.http.put('/api/settings/memory-retention').set(s.auth).send({ autoStore: 'maybe' });
    expect(badFlag.body.error).toBe('autoStore must be true or false');
    const empty = await app.http.put('/api/settings/memory-retention').set(s.auth).send({ retentionPeriod: '' });
    expect(empty.body.data.memoryRetention.retentionPeriod).toBe('30-days');
    const other = await registerUser(app);
    const profile = await app.http.put('/api/settings/profile').set(s.auth).send({ name: 'Ada L', email: other.user.email });
    expect(profile.body).toEqual({ ok: false, data: null, error: 'Email already exists' });
    const renamed = await app.http.put('/api/settings/profile').set(s.auth).send({ name: 'Ada L', email: '' });
    expect(renamed.body.data.profile).toEqual({ name: 'Ada L', email: s.user.email });
  });

  it('S4: cleanup-info countdown, and the indefinite variant without total_seconds_remaining', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const indefinite = await app.http.get('/api/settings/cleanup-info').set(s.auth);
    expect(indefinite.body.data).toEqual({ cleanup_date: null, days_remaining: null, hours_remaining: null, minutes_remaining: null, is_indefinite: true, retention_period: 'indefinite-84' });
    await app.http.put('/api/settings/memory-retention').set(s.auth).send({ retentionPeriod: '7-days' });
    const info = await app.http.get('/api/settings/cleanup-info').set(s.auth);
    expect(Object.keys(info.body.data).sort()).toEqual(['cleanup_date', 'days_remaining', 'hours_remaining', 'is_indefinite', 'minutes_remaining', 'retention_period', 'total_seconds_remaining']);
    expect(info.body.data).toMatchObject({ is_indefinite: false, retention_period: '7-days', days_remaining: 6 });
    expect(new Date(info.body.data.cleanup_date).getTime()).toBe(new Date(s.user.createdAt).getTime() + 7 * DAY);
    // 10 days after sign-up, the next cleanup is at day 14.
    const joined = new Date('2026-01-01T00:00:00.000Z');
    expect(presentCleanupInfo('7-days', nextCleanup({ createdAt: joined, retentionPeriod: '7-days' }, new Date(joined.getTime() + 10 * DAY)))).toEqual({
      cleanup_date: '2026-01-15T00:00:00.000Z', days_remaining: 4, hours_remaining: 0, minutes_remaining: 0, total_seconds_remaining: 4 * 86400, is_indefinite: false, retention_period: '7-days',
    });
  });

  it('S5: deletes by age under the retention period in owned workspaces only, exact counts; indefinite deletes nothing', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const other = await registerUser(app);
    const mine = await defaultWorkspace(app, s.user.id);
    const theirs = await defaultWorkspace(app, other.user.id);
    await app.deps.prisma.teamMember.create({ data: { id: newId('tm'), userId: s.user.id, workspaceId: theirs.id, role: 'researcher' } });
    const old = await seedAged(app, mine.id, 40, 3);
    const fresh = await seedAged(app, mine.id, 2, 1);
    const foreign = await seedAged(app, theirs.id, 40, 2);
    const indefinite = await app.http.post('/api/settings/cleanup').set(s.auth);
    expect(indefinite.body.data).toEqual({ workspaces_deleted: 0, conversations_deleted: 0, memories_deleted: 0, messages_deleted: 0, cleanup_time: expect.any(String) });
    await app.http.put('/api/settings/memory-retention').set(s.auth).send({ retentionPeriod: '30-days' });
    const p = app.deps.prisma;
    const stamp = async (workspaceId: string) => (await p.workspaceIndexStamp.findUnique({ where: { workspaceId } }))?.version ?? 0;
    const [mineBefore, theirsBefore] = [await stamp(mine.id), await stamp(theirs.id)];
    const res = await app.http.post('/api/settings/cleanup').set(s.auth);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ workspaces_deleted: 0, conversations_deleted: 1, memories_deleted: 1, messages_deleted: 3, cleanup_time: expect.any(String) });
    // Loaded vector indexes learn of the deleted memories through the workspace's index stamp.
    expect(Number(await stamp(mine.id))).toBeGreaterThan(Number(mineBefore));
    expect(await stamp(theirs.id)).toEqual(theirsBefore);
    expect(await p.conversation.findUnique({ where: { id: old.conv.id } })).toBeNull();
    expect(await p.chatMessage.count({ where: { conversationId: old.conv.id } })).toBe(0);
    expect(await p.memory.findUnique({ where: { id: old.mem.id } })).toBeNull();
    expect(await p.conversation.findUnique({ where: { id: fresh.conv.id } })).not.toBeNull();
    expect(await p.conversation.findUnique({ where: { id: foreign.conv.id } })).not.toBeNull();
    expect(await p.workspace.findUnique({ where: { id: mine.id } })).not.toBeNull();
  });

  it('the scheduled sweep applies each owner\'s period and skips when another instance holds the lock', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const keep = await registerUser(app);
    await app.deps.prisma.user.update({ where: { id: s.user.id }, data: { retentionPeriod: '7-days' } });
    const ws = await defaultWorkspace(app, s.user.id);
    const keepWs = await defaultWorkspace(app, keep.user.id);
    const old = await seedAged(app, ws.id, 8, 2);
    const kept = await seedAged(app, keepWs.id, 400, 1);
    const result = await sweepExpiredContent(app.deps.prisma);
    expect(result.swept).toBe(true);
    expect(result.conversations).toBeGreaterThanOrEqual(1);
    expect(await app.deps.prisma.conversation.findUnique({ where: { id: old.conv.id } })).toBeNull();
    expect(await app.deps.prisma.memory.findUnique({ where: { id: old.mem.id } })).toBeNull();
    expect(await app.deps.prisma.conversation.findUnique({ where: { id: kept.conv.id } })).not.toBeNull();
    if (app.storage === 'postgres') {
      // Another instance holds the sweep lock: this round is skipped.
      const { Client } = await import('pg');
      const other = new Client({ connectionString: app.database.url! });
      await other.connect();
      await other.query('BEGIN');
      await other.query(`SELECT pg_advisory_xact_lock(${0x43_68_69_6d_52_65_74n})`);
      const again = await seedAged(app, ws.id, 9, 1);
      expect(await sweepExpiredContent(app.deps.prisma)).toMatchObject({ swept: false, conversations: 0 });
      expect(await app.deps.prisma.conversation.findUnique({ where: { id: again.conv.id } })).not.toBeNull();
      await other.query('ROLLBACK');
      await other.end();
    }
  });

  it('U2: the legacy spec hook answers 410', async () => {
    const res = await ctx().http.post('/api/hooks/spec-update').send({ method: 'GET' });
    expect(res.status).toBe(410);
    expect(res.body).toEqual({ ok: false, data: null, error: 'This endpoint has been removed' });
  });
});

// auth_time has whole seconds, so "just signed in" may already be up to a second old.
const REAUTH_WINDOW_MS = 3000;

/** An access token of a session whose password sign-in was `ago` ms before now (signed as the server signs). */
const signedInAgo = (userId: string, ago: number) =>
  jwt.sign({ token_type: 'access', user_id: userId, jti: newId('tm').slice(3), fam: newId('tm'), auth_time: Math.floor((Date.now() - ago) / 1000) }, TEST_ENV.JWT_SECRET!, { expiresIn: 600 });

describeEachStorage(
  'changing the email needs a recent sign-in',
  (ctx) => {
    const routes = [
      { path: '/api/settings/profile', email: (res: { body: { data: { profile: { email: string } } } }) => res.body.data.profile.email },
      { path: '/api/auth/profile/update', email: (res: { body: { data: { email: string } } }) => res.body.data.email },
    ];

    for (const route of routes) {
      it(`${route.path}: as the frontend sends it ({name, email}), right after signing in`, async () => {
        const app = ctx();
        const s = await registerUser(app);
        const email = uniqueEmail('new');
        const res = await app.http.put(route.path).set(s.auth).send({ name: 'Ada', email });
        expect(res.status).toBe(200);
        expect(route.email(res as never)).toBe(email);
      });

      it(`${route.path}: a stale sign-in gets 403 unless the current password comes along; the unchanged email is no change`, async () => {
        const app = ctx();
        const s = await registerUser(app);
        const stolen = { Authorization: `Bearer ${signedInAgo(s.user.id, REAUTH_WINDOW_MS + 1000)}` };
        const put = (body: object) => app.http.put(route.path).set(stolen).send(body);
        const stale = await put({ name: 'Ada', email: uniqueEmail('stolen') });
        expect(stale.status).toBe(403);
        expect(stale.body).toEqual({ ok: false, data: null, error: 'Sign in again to change your email address' });
        expect((await put({ name: 'Ada', email: uniqueEmail('stolen'), currentPassword: 'a guess' })).body).toEqual({ ok: false, data: null, error: 'Current password is incorrect' });
        expect((await app.deps.prisma.user.findUniqueOrThrow({ where: { id: s.user.id } })).email).toBe(s.user.email);
        // the settings page saving the name with the same email (any case) still works
        const same = await put({ name: 'Ada Lovelace', email: ` ${s.user.email.toUpperCase()} ` });
        expect(same.status).toBe(200);
        expect((await put({ name: 'Ada L', email: '' })).status).toBe(200);
        const email = uniqueEmail('mine');
        const proven = await put({ email, currentPassword: s.password });
        expect(proven.status).toBe(200);
        expect(route.email(proven as never)).toBe(email);
      });
    }

    it('a refresh keeps the time of the sign-in; a new sign-in starts it again', async () => {
      const app = ctx();
      const s = await registerUser(app);
      await sleep(REAUTH_WINDOW_MS + 100);
      const rotated = (await app.http.post('/api/auth/refresh').send({ refresh: s.refresh })).body.data;
      const change = (token: string) => app.http.put('/api/settings/profile').set('Authorization', `Bearer ${token}`).send({ name: 'x', email: uniqueEmail('r') });
      expect((await change(rotated.token)).status).toBe(403);
      const again = (await app.http.post('/api/auth/login').send({ email: s.user.email, password: s.password })).body.data;
      expect((await change(again.token)).status).toBe(200);
    });

    it('a token without a sign-in time (issued before it was recorded) never counts as recent', async () => {
      const app = ctx();
      const s = await registerUser(app);
      const legacy = jwt.sign({ token_type: 'access', user_id: s.user.id, jti: newId('tm').slice(3) }, TEST_ENV.JWT_SECRET!, { expiresIn: 600 });
      const res = await app.http.put('/api/settings/profile').set('Authorization', `Bearer ${legacy}`).send({ name: 'x', email: uniqueEmail('l') });
      expect([res.status, res.body.error]).toEqual([403, 'Sign in again to change your email address']);
    });
  },
  { REAUTH_WINDOW: `${REAUTH_WINDOW_MS}ms` },
);
