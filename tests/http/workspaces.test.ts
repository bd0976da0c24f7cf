import { expect, it } from 'vitest';
import { newId } from '../../src/lib/ids.js';
import { bucketOf, loadSeries, STEP_MS } from '../../src/services/neural-load.js';
import { describeEachStorage, type TestApp } from '../support/app.js';
import { registerUser, type Session } from '../support/factories.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const WS_ID = /^workspace-[0-9a-f]{12}$/;

async function createWorkspace(app: TestApp, s: Session, name = 'Lab') {
  const res = await app.http.post('/api/workspaces').set(s.auth).send({ name, description: 'desc' });
  expect(res.status).toBe(201);
  return res.body.data as { id: string; ownerId: string };
}

/** Adds `user` to a workspace with a role, as an accepted invitation would. */
function addMember(app: TestApp, workspaceId: string, userId: string, role: string) {
  return app.deps.prisma.teamMember.create({ data: { id: newId('tm'), workspaceId, userId, role, status: 'online' } });
}

/** Seeds content directly: memories (some embedded), conversations (some active), messages. */
async function seed(app: TestApp, workspaceId: string, at: Date) {
  const p = app.deps.prisma;
  await p.memory.createMany({
    data: [0, 1, 2].map((i) => ({ id: newId('memory'), workspaceId, title: `m${i}`, content: 'c', embeddingStatus: i === 0 ? 'ready' : 'pending', updatedAt: at })),
  });
  const convs = [0, 1].map((i) => ({ id: newId('conv'), workspaceId, modelId: 'model-x', status: i === 0 ? 'active' : 'completed', updatedAt: at }));
  await p.conversation.createMany({ data: convs });
  await p.chatMessage.createMany({
    data: [
      { id: newId('msg'), conversationId: convs[0]!.id, role: 'user', content: 'recent', timestamp: new Date() },
      { id: newId('msg'), conversationId: convs[0]!.id, role: 'user', content: 'recent2', timestamp: new Date() },
      { id: newId('msg'), conversationId: convs[1]!.id, role: 'user', content: 'old', timestamp: new Date(Date.now() - 2 * 3600_000) },
    ],
  });
}

describeEachStorage('workspaces', (ctx) => {
  it('W2 creates with the owner as first member; W1 lists it with stats, newest update first', async () => {
    const app = ctx();
    const s = await registerUser(app, { name: 'Ada' });
    const created = await app.http.post('/api/workspaces').set(s.auth).send({ name: '  Lab  ', description: ' d ' });
    expect(created.status).toBe(201);
    expect(created.body.data).toEqual({
      id: expect.stringMatching(WS_ID),
      name: 'Lab',
      description: 'd',
      ownerId: s.user.id,
      members: [{
        id: expect.stringMatching(/^tm-[0-9a-f]{12}$/), userId: s.user.id, workspaceId: created.body.data.id, role: 'admin', status: 'online',
        joinedAt: expect.stringMatching(ISO), user: { id: s.user.id, name: 'Ada', email: s.user.email },
      }],
      stats: { totalMemories: 0, totalEmbeddings: 0, totalConversations: 0, systemLoad: 0, lastActivity: expect.stringMatching(ISO) },
      settings: { systemPrompt: null, defaultModelId: null, autoRetrieve: false, autoExtract: false, retrievalTopK: 5 },
      createdAt: expect.stringMatching(ISO),
      updatedAt: expect.stringMatching(ISO),
    });
    const noDesc = await app.http.post('/api/workspaces').set(s.auth).send({ name: 'Bare' });
    expect(noDesc.body.data.description).toBe('');
    const list = await app.http.get('/api/workspaces').set(s.auth);
    expect(list.status).toBe(200);
    expect(list.body.data.total).toBe(3); // the default workspace (D8) and two new ones
    expect(list.body.data.workspaces.map((w: { name: string }) => w.name)).toEqual(['Bare', 'Lab', "Ada's Workspace"]);
    const activity = await app.deps.prisma.activity.findMany({ where: { workspaceId: created.body.data.id } });
    expect(activity).toMatchObject([{ type: 'team_member_added', description: 'Team member Ada added as admin' }]);
  });

  it('stats follow the one formula (D2) everywhere: list, get, stats, dashboard, neural-load', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const ws = await createWorkspace(app, s);
    const past = new Date(Date.now() - 3600_000);
    await seed(app, ws.id, past);
    const expected = { totalMemories: 3, totalEmbeddings: 1, totalConversations: 2, systemLoad: 10 * 1 + 2 };
    const list = await app.http.get('/api/workspaces').set(s.auth);
    const fromList = list.body.data.workspaces.find((w: { id: string }) => w.id === ws.id).stats;
    expect(fromList).toMatchObject(expected);
    const one = await app.http.get(`/api/workspaces/${ws.id}`).set(s.auth);
    expect(one.body.data.stats).toEqual(fromList);
    // the list (one SQL statement) and the single read (Prisma) present the same object
    expect(list.body.data.workspaces.find((w: { id: string }) => w.id === ws.id)).toEqual(one.body.data);
    const stats = await app.http.get(`/api/workspaces/${ws.id}/stats`).set(s.auth);
    expect(stats.body.data).toMatchObject(expected);
    // lastActivity is the newest of all sources: here the messages sent just now
    expect(Date.parse(stats.body.data.lastActivity)).toBeGreaterThan(Date.now() - 60_000);
    const dash = await app.http.get(`/api/workspaces/${ws.id}/dashboard`).set(s.auth);
    expect(dash.body.data.stats).toMatchObject(expected);
    const nl = await app.http.get(`/api/workspaces/${ws.id}/neural-load`).set(s.auth);
    expect(nl.body.data.currentLoad).toBe(12);

    // counters follow updates and deletes (status changes, embedding, removal)
    const p = app.deps.prisma;
    await p.conversation.updateMany({ where: { workspaceId: ws.id }, data: { status: 'active' } });
    await p.memory.updateMany({ where: { workspaceId: ws.id }, data: { embeddingStatus: 'ready' } });
    await p.memory.deleteMany({ where: { workspaceId: ws.id, title: 'm2' } });
    const after = await app.http.get(`/api/workspaces/${ws.id}/stats`).set(s.auth);
    expect(after.body.data).toMatchObject({ totalMemories: 2, totalEmbeddings: 2, totalConversations: 2, systemLoad: 22 });
    // systemLoad caps at 100
    const conv = await p.conversation.findFirstOrThrow({ where: { workspaceId: ws.id } });
    await p.chatMessage.createMany({ data: Array.from({ length: 120 }, () => ({ id: newId('msg'), conversationId: conv.id, role: 'user', content: 'x' })) });
    expect((await app.http.get(`/api/workspaces/${ws.id}/stats`).set(s.auth)).body.data.systemLoad).toBe(100);
  });

  it('W1 answers 304 to a matching If-None-Match (D21) and pages with limit/offset', async () => {
    const app = ctx();
    const s = await registerUser(app);
    await createWorkspace(app, s, 'A');
    await createWorkspace(app, s, 'B');
    const first = await app.http.get('/api/workspaces').set(s.auth);
    expect(first.headers.etag).toBeTruthy();
    const again = await app.http.get('/api/workspaces').set(s.auth).set('If-None-Match', String(first.headers.etag));
    expect(again.status).toBe(304);
    const page = await app.http.get('/api/workspaces?limit=1&offset=1').set(s.auth);
    expect(page.body.data.total).toBe(3);
    expect(page.body.data.workspaces.map((w: { name: string }) => w.name)).toEqual(['A']);
    for (const bad of ['abc', '-1', '1e9', '0', '1.5']) {
      const r = await app.http.get(`/api/workspaces?limit=${bad}`).set(s.auth);
      expect(r.status, bad).toBe(400);
      expect(r.body.error).toMatch(/^limit: /);
    }
    expect((await app.http.get('/api/workspaces?offset=-3').set(s.auth)).status).toBe(400);
  });

  it.each([
    [{}, { name: ['This field is required.'] }],
    [{ name: null }, { name: ['This field may not be null.'] }],
    [{ name: 42 }, { name: ['Not a valid string.'] }],
    [{ name: ['a'] }, { name: ['Not a valid string.'] }],
    [{ name: '   ' }, { name: ['This field may not be blank.'] }],
    [{ name: 'x'.repeat(10_000) }, { name: ['Ensure this field has no more than 255 characters.'] }],
    [{ name: 'ok', description: 5 }, { description: ['Not a valid string.'] }],
  ])('W2 validation %#', async (body, error) => {
    const app = ctx();
    const s = await registerUser(app);
    const before = await app.deps.prisma.workspace.count();
    const res = await app.http.post('/api/workspaces').set(s.auth).send(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ ok: false, data: null, error });
    expect(await app.deps.prisma.workspace.count()).toBe(before);
  });

  it('W4 updates present keys, bumps updatedAt; admins may rename, researchers may not; bad values are 400', async () => {
    const app = ctx();
    const owner = await registerUser(app);
    const admin = await registerUser(app);
    const researcher = await registerUser(app);
    const ws = await createWorkspace(app, owner);
    await addMember(app, ws.id, admin.user.id, 'admin');
    await addMember(app, ws.id, researcher.user.id, 'researcher');
    const before = (await app.http.get(`/api/workspaces/${ws.id}`).set(owner.auth)).body.data;
    const r1 = await app.http.put(`/api/workspaces/${ws.id}`).set(admin.auth).send({ name: 'Renamed' });
    expect(r1.status).toBe(200);
    expect(r1.body.data).toMatchObject({ name: 'Renamed', description: 'desc' });
    expect(Date.parse(r1.body.data.updatedAt)).toBeGreaterThan(Date.parse(before.updatedAt));
    const r2 = await app.http.put(`/api/workspaces/${ws.id}`).set(owner.auth).send({ description: '' });
    expect(r2.body.data).toMatchObject({ name: 'Renamed', description: '' });
    const denied = await app.http.put(`/api/workspaces/${ws.id}`).set(researcher.auth).send({ name: 'x' });
    expect(denied.status).toBe(403);
    expect(denied.body.error).toBe('Only owner or admin can update workspace');
    for (const body of [{ name: null }, { name: 7 }, { name: ['x'] }, { name: 'y'.repeat(10_000) }, { name: '' }]) {
      const r = await app.http.put(`/api/workspaces/${ws.id}`).set(owner.auth).send(body);
      expect(r.status, JSON.stringify(body).slice(0, 40)).toBe(400);
      expect(r.body.error).toMatch(/^name: /);
    }
    expect((await app.http.put('/api/workspaces/workspace-000000000000').set(owner.auth).send({ name: 'x' })).status).toBe(404);
  });

  it('W5: only the owner deletes; the delete cascades to every child row', async () => {
    const app = ctx();
    const owner = await registerUser(app);
    const admin = await registerUser(app);
    const invitee = await registerUser(app);
    const ws = await createWorkspace(app, owner);
    await addMember(app, ws.id, admin.user.id, 'admin');
    await seed(app, ws.id, new Date());
    await app.http.post(`/api/workspaces/${ws.id}/record-load`).set(owner.auth);
    await app.http.post(`/api/workspaces/${ws.id}/team/invite`).set(owner.auth).send({ email: invitee.user.email });
    const refused = await app.http.delete(`/api/workspaces/${ws.id}`).set(admin.auth);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('Only owner can delete workspace');
    const res = await app.http.delete(`/api/workspaces/${ws.id}`).set(owner.auth);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ message: 'Workspace deleted successfully' });
    const p = app.deps.prisma;
    const where = { workspaceId: ws.id };
    const left = await Promise.all([
      p.workspace.count({ where: { id: ws.id } }), p.teamMember.count({ where }), p.workspaceInvitation.count({ where }),
      p.conversation.count({ where }), p.memory.count({ where }), p.systemLoadSnapshot.count({ where }),
      p.activity.count({ where }), p.workspaceCounters.count({ where }),
      p.chatMessage.count({ where: { conversation: { workspaceId: ws.id } } }),
    ]);
    expect(left).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect((await app.http.delete(`/api/workspaces/${ws.id}`).set(owner.auth)).status).toBe(404);
  });

  it('W3/W6–W10: 404 for unknown ids, 403 Access denied for strangers, never the data', async () => {
    const app = ctx();
    const owner = await registerUser(app);
    const stranger = await registerUser(app);
    const ws = await createWorkspace(app, owner, 'Secret name');
    for (const suffix of ['', '/stats', '/dashboard', '/activity', '/neural-load']) {
      const unknown = await app.http.get(`/api/workspaces/workspace-ffffffffffff${suffix}`).set(owner.auth);
      expect(unknown.status).toBe(404);
      expect(unknown.body.error).toBe('Workspace not found');
      const denied = await app.http.get(`/api/workspaces/${ws.id}${suffix}`).set(stranger.auth);
      expect(denied.status).toBe(403);
      expect(denied.body).toEqual({ ok: false, data: null, error: 'Access denied' });
    }
    const list = await app.http.get('/api/workspaces').set(stranger.auth);
    expect(JSON.stringify(list.body)).not.toContain('Secret name');
  });

  it('W8: activity newest first, limit default 10, capped at 100, bad limits are 400', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const ws = await createWorkspace(app, s);
    const base = Date.now() + 10_000; // newer than the creation activity
    await app.deps.prisma.activity.createMany({
      data: Array.from({ length: 120 }, (_, i) => ({ id: newId('activity'), workspaceId: ws.id, type: 'memory_created', description: `Memory 'm${i}' created`, metadata: { memoryId: `m${i}` }, timestamp: new Date(base + i * 1000) })),
    });
    const def = await app.http.get(`/api/workspaces/${ws.id}/activity`).set(s.auth);
    expect(def.body.data.total).toBe(10);
    expect(def.body.data.activities[0]).toEqual({ id: expect.stringMatching(/^activity-/), type: 'memory_created', message: "Memory 'm119' created", timestamp: expect.stringMatching(ISO), metadata: { memoryId: 'm119' } });
    expect((await app.http.get(`/api/workspaces/${ws.id}/activity?limit=1e9`).set(s.auth)).body.data.total).toBe(100);
    expect((await app.http.get(`/api/workspaces/${ws.id}/activity?limit=3&offset=1`).set(s.auth)).body.data.activities[0].message).toBe("Memory 'm118' created");
    for (const bad of ['abc', '-1', '0', '2.5']) {
      const r = await app.http.get(`/api/workspaces/${ws.id}/activity?limit=${bad}`).set(s.auth);
      expect(r.status, bad).toBe(400);
    }
    const dash = await app.http.get(`/api/workspaces/${ws.id}/dashboard`).set(s.auth);
    expect(dash.body.data.recentActivity).toHaveLength(10);
  });

  it('W10 record-load is idempotent per 5-minute bucket (even concurrently); W9 reads the snapshots', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const ws = await createWorkspace(app, s);
    const results = await Promise.all([1, 2, 3, 4].map(() => app.http.post(`/api/workspaces/${ws.id}/record-load`).set(s.auth)));
    for (const r of results) expect(r.body).toEqual({ ok: true, error: null, data: { currentLoad: 0, message: 'Load snapshot recorded' } });
    const p = app.deps.prisma;
    // two concurrent calls may straddle a bucket boundary, hence ≤ 2
    expect(await p.systemLoadSnapshot.count({ where: { workspaceId: ws.id } })).toBeLessThanOrEqual(2);
    // an old snapshot is pruned on the next call; a recent one feeds the series
    const now = Date.now();
    await p.systemLoadSnapshot.create({ data: { id: newId('load'), workspaceId: ws.id, bucket: bucketOf(new Date(now - 25 * 3600_000)), value: 5, timestamp: new Date(now - 25 * 3600_000) } });
    await p.systemLoadSnapshot.create({ data: { id: newId('load'), workspaceId: ws.id, bucket: bucketOf(new Date(now - 60 * 60_000)), value: 77, timestamp: new Date(now - 60 * 60_000) } });
    await app.http.post(`/api/workspaces/${ws.id}/record-load`).set(s.auth);
    expect(await p.systemLoadSnapshot.count({ where: { workspaceId: ws.id, timestamp: { lt: new Date(now - 24 * 3600_000) } } })).toBe(0);
    const nl = await app.http.get(`/api/workspaces/${ws.id}/neural-load`).set(s.auth);
    expect(nl.body.data.neuralLoad).toHaveLength(24);
    const values = nl.body.data.neuralLoad.map((p: { value: number }) => p.value);
    expect(values).toContain(77);
    for (const point of nl.body.data.neuralLoad) expect(point.timestamp).toMatch(ISO);
  });

  it('neural-load series: §5.2 selection rule', () => {
    const now = new Date('2026-01-01T12:00:00.000Z');
    const t = (minutesAgo: number) => new Date(now.getTime() - minutesAgo * 60_000);
    expect(loadSeries([], 42, now).map((p) => p.value)).toEqual(Array(24).fill(42));
    const series = loadSeries([{ timestamp: t(114), value: 9 }, { timestamp: t(61), value: 30 }, { timestamp: t(58), value: 40 }], 50, now);
    expect(series[0]!.timestamp).toBe(t(115).toISOString());
    expect(series[23]!.timestamp).toBe(now.toISOString());
    expect(series[0]!.value).toBe(9); // 1 minute away
    expect(series[1]!.value).toBe(9); // none close enough (>= 5 minutes): repeat
    expect(series[11]!.value).toBe(30); // target 60 min ago: 61 is closer than 58
    expect(series[12]!.value).toBe(40); // target 55 min ago: 58 qualifies
    expect(series[23]!.value).toBe(40);
    expect(loadSeries([{ timestamp: t(0), value: 3 }], 50, now)[0]!.value).toBe(50); // first point without a snapshot: current load
    expect(bucketOf(new Date(STEP_MS * 7 + 1234)).getTime()).toBe(STEP_MS * 7);
  });
});
