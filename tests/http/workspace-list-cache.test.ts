/**
 * GET /api/workspaces is served from a per-instance cache checked against list versions the
 * database bumps on every write. After any kind of write, made through this instance, a
 * second instance on the same database, or straight in the database, the next list must
 * equal a fresh computation; so must a list whose recent-message window moved with the clock.
 */
import type supertest from 'supertest';
import { expect, it } from 'vitest';
import { type Database, queryValue } from '../../src/db/client.js';
import { newId } from '../../src/lib/ids.js';
import type { StampTuple } from '../../src/data/workspaces.js';
import { presentWorkspace } from '../../src/presenters/workspace.js';
import { listStamps, WorkspaceListCache } from '../../src/services/workspace-list.js';
import { describeEachStorage, type TestApp } from '../support/app.js';
import { secondInstance } from '../support/instances.js';
import { registerUser, type Session } from '../support/factories.js';

type Listed = {
  workspaces: {
    id: string; name: string; members: { userId: string; role: string; status: string; user: { name: string } }[];
    stats: Record<string, number | string>; settings: Record<string, unknown>;
  }[];
  total: number;
};

/** Step 1 of a list, as the route's preload reads it with the authentication lookup. */
const stamps = (db: Pick<Database, 'query'>, userId: string, page = {}) =>
  queryValue<StampTuple[]>(db, listStamps.sql({ userId, params: {}, query: page }), listStamps.name);

/** A list as the route presents it. */
const listOf = (db: Pick<Database, 'query'>) => new WorkspaceListCache(db, ({ workspace, stats }) => presentWorkspace(workspace, stats));

/** The list as a cache-less computation gives it now, in wire form. */
async function fresh(app: TestApp, userId: string, page = {}): Promise<Listed> {
  const { workspaces, total, json } = await listOf(app.deps.db).list(userId, page, await stamps(app.deps.db, userId, page));
  expect(json).toBe(JSON.stringify({ workspaces, total })); // the serialized text is the value's
  return JSON.parse(json);
}

async function served(http: ReturnType<typeof supertest>, s: Session, query = ''): Promise<Listed> {
  const res = await http.get(`/api/workspaces${query}`).set(s.auth);
  expect(res.status).toBe(200);
  return res.body.data;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeEachStorage('workspace list cache', (ctx) => {
  it('after each kind of write, on either instance, the next list equals a fresh computation', async () => {
    const app = ctx();
    const other = await secondInstance(app);
    try {
      const owner = await registerUser(app, { name: 'Owner' });
      const mate = await registerUser(app, { name: 'Mate' });
      const ws = (await app.http.post('/api/workspaces').set(owner.auth).send({ name: 'Lab' })).body.data as { id: string };
      const instances = [app.http, other.http];
      const seen = new Map<string, { text: string; etag: string }>();
      /**
       * Both instances answer every user with exactly the bytes of a fresh computation (and
       * so warm their caches); the ETag changes exactly when the body does.
       */
      const exact = async (label: string) => {
        for (const s of [owner, mate]) {
          for (const [n, http] of instances.entries()) {
            for (const query of ['', '?limit=1&offset=1']) {
              const page = query ? { limit: 1, offset: 1 } : {};
              const res = await http.get(`/api/workspaces${query}`).set(s.auth);
              const what = `${label} (${s.user.name}${query}, instance ${n})`;
              expect(res.status, what).toBe(200);
              expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
              expect(res.text, what).toBe(JSON.stringify({ ok: true, data: await fresh(app, s.user.id, page), error: null }));
              const key = `${s.user.id}${query}${n}`;
              const before = seen.get(key);
              if (before) expect(res.headers.etag === before.etag, `${what}: ETag moves with the body`).toBe(res.text === before.text);
              seen.set(key, { text: res.text, etag: String(res.headers.etag) });
              const cached = await http.get(`/api/workspaces${query}`).set(s.auth).set('If-None-Match', String(res.headers.etag));
              expect(cached.status, what).toBe(304);
            }
          }
        }
        return (await served(app.http, owner)).workspaces.find((w) => w.id === ws.id);
      };
      await exact('initial');

      const memory = await app.http.post(`/api/workspaces/${ws.id}/memories`).set(owner.auth).send({ title: 'M', content: 'c' });
      expect(memory.status).toBe(201);
      expect((await exact('memory created'))!.stats.totalMemories).toBe(1);
      await other.http.post(`/api/workspaces/${ws.id}/memories`).set(owner.auth).send({ title: 'N', content: 'd' });
      expect((await exact('memory created by the second instance'))!.stats.totalMemories).toBe(2);
      await app.deps.prisma.memory.update({ where: { id: memory.body.data.id }, data: { embeddingStatus: 'ready' } });
      expect((await exact('memory embedded'))!.stats.totalEmbeddings).toBe(1);
      expect((await other.http.delete(`/api/memories/${memory.body.data.id}`).set(owner.auth)).status).toBe(200);
      expect((await exact('memory deleted by the second instance'))!.stats.totalMemories).toBe(1);

      const conv = await other.http.post(`/api/workspaces/${ws.id}/conversations`).set(owner.auth).send({ modelId: 'model-gpt-4o' });
      expect(conv.status).toBe(201);
      const afterConv = (await exact('conversation created by the second instance'))!;
      expect(afterConv.stats.totalConversations).toBe(1);
      const message = await app.deps.prisma.chatMessage.create({ data: { id: newId('msg'), conversationId: conv.body.data.id, role: 'user', content: 'hi' } });
      const afterMessage = (await exact('message stored'))!;
      expect(afterMessage.stats.systemLoad).toBe(Number(afterConv.stats.systemLoad) + 1);
      expect((await other.http.delete(`/api/conversations/${conv.body.data.id}/messages/${message.id}`).set(owner.auth)).status).toBe(200);
      expect((await exact('message deleted'))!.stats.systemLoad).toBe(afterConv.stats.systemLoad);
      await app.deps.prisma.conversation.update({ where: { id: conv.body.data.id }, data: { status: 'completed' } });
      await exact('conversation status changed');
      await app.deps.prisma.activity.create({ data: { id: newId('activity'), workspaceId: ws.id, type: 'memory_created', description: 'x', timestamp: new Date(Date.now() + 60_000) } });
      await exact('activity logged');

      const invitation = await other.http.post(`/api/workspaces/${ws.id}/team/invite`).set(owner.auth).send({ email: mate.user.email, role: 'researcher' });
      expect(invitation.status).toBe(201);
      expect((await app.http.post(`/api/invitations/${invitation.body.data.id}/accept`).set(mate.auth)).status).toBe(200);
      expect((await exact('member added'))!.members.map((m) => m.user.name)).toEqual(['Owner', 'Mate']);
      expect((await served(app.http, mate)).workspaces.map((w) => w.id)).toContain(ws.id);
      expect((await other.http.put(`/api/workspaces/${ws.id}/team/${mate.user.id}/role`).set(owner.auth).send({ role: 'observer' })).status).toBe(200);
      expect((await exact('role changed'))!.members[1]!.role).toBe('observer');
      expect((await app.http.put(`/api/workspaces/${ws.id}/team/${mate.user.id}/status`).set(mate.auth).send({ status: 'away' })).status).toBe(200);
      expect((await exact('status changed'))!.members[1]!.status).toBe('away');
      expect((await other.http.put('/api/auth/profile/update').set(mate.auth).send({ name: 'Renamed mate' })).status).toBe(200);
      expect((await exact('member renamed their account'))!.members[1]!.user.name).toBe('Renamed mate');

      expect((await other.http.put(`/api/workspaces/${ws.id}`).set(owner.auth).send({ name: 'Renamed lab' })).status).toBe(200);
      const renamed = await exact('workspace renamed by the second instance');
      expect(renamed!.name).toBe('Renamed lab');
      expect((await served(app.http, owner)).workspaces[0]!.id).toBe(ws.id); // newest update first
      expect((await app.http.put(`/api/workspaces/${ws.id}`).set(owner.auth).send({ settings: { systemPrompt: 'Be brief.', retrievalTopK: 7 } })).status).toBe(200);
      expect((await exact('workspace settings changed'))!.settings).toMatchObject({ systemPrompt: 'Be brief.', retrievalTopK: 7 });

      expect((await other.http.delete(`/api/workspaces/${ws.id}/team/${mate.user.id}`).set(owner.auth)).status).toBe(200);
      await exact('member removed by the second instance');
      expect((await served(app.http, mate)).workspaces.map((w) => w.id)).not.toContain(ws.id);

      expect((await other.http.delete(`/api/workspaces/${ws.id}`).set(owner.auth)).status).toBe(200);
      expect(await exact('workspace deleted by the second instance')).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  it('an entry expires when a counted message leaves the 60-minute window (and at the 100-message cap)', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const ws = (await app.http.post('/api/workspaces').set(s.auth).send({ name: 'Clock' })).body.data as { id: string };
    const conv = await app.deps.prisma.conversation.create({ data: { id: newId('conv'), workspaceId: ws.id, modelId: 'model-x', status: 'completed' } });
    const leavesAt = Date.now() + 2500;
    const at = (t: number) => new Date(t - 3600_000);
    await app.deps.prisma.chatMessage.createMany({
      data: [
        ...Array.from({ length: 99 }, () => ({ id: newId('msg'), conversationId: conv.id, role: 'user', content: 'soon old', timestamp: at(leavesAt) })),
        ...[0, 1].map(() => ({ id: newId('msg'), conversationId: conv.id, role: 'user', content: 'new', timestamp: new Date() })),
      ],
    });
    const load = async () => (await served(app.http, s)).workspaces.find((w) => w.id === ws.id)!.stats.systemLoad;
    expect(await load()).toBe(100); // 101 recent messages, capped
    expect(await load()).toBe(100); // from the cache
    await sleep(leavesAt - Date.now() + 50);
    expect(await load()).toBe(2);
    expect(await served(app.http, s)).toEqual(await fresh(app, s.user.id));
  });

  it('a write racing a request makes it compute the page in one statement: never a mix of two states', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const a = (await app.http.post('/api/workspaces').set(s.auth).send({ name: 'A' })).body.data as { id: string };
    const b = (await app.http.post('/api/workspaces').set(s.auth).send({ name: 'B' })).body.data as { id: string };
    let statements = 0;
    const db = {
      query: async <T>(sql: string, params?: unknown[]) => {
        const rows = await app.deps.db.query<T>(sql, params);
        // Between reading the versions and computing a miss, another writer renames both.
        if (++statements === 1) await app.deps.prisma.workspace.updateMany({ where: { id: { in: [a.id, b.id] } }, data: { name: 'Raced' } });
        return rows;
      },
    };
    const first = await listOf(db).list(s.user.id, {}, await stamps(db, s.user.id));
    expect(first.workspaces.filter((w) => w.id === a.id || w.id === b.id).map((w) => w.name)).toEqual(['Raced', 'Raced']);
    expect(JSON.parse(first.json)).toEqual(await fresh(app, s.user.id));
    expect(statements).toBe(3); // versions, misses (saw the moved versions), the page in one statement
  });
});
