/**
 * The polled answers (contract §1.13) other than the workspace list carry ETags derived from
 * versions that triggers bump in every writing transaction: the memory list (with its query),
 * the conversation list, a conversation with its messages, and the team. After every kind of
 * write, made through this instance, a second instance on the same database, or straight in
 * the database, each answer's ETag must move whenever its body did, and a poll naming the
 * current ETag must get 304 on both instances.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids.js';
import { describeEachStorage, type TestApp } from '../support/app.js';
import { secondInstance } from '../support/instances.js';
import { registerUser } from '../support/factories.js';
import { addMemory, defaultWorkspace, tinyModelEnv } from '../support/memories.js';

const env = tinyModelEnv();

const polledUrls = (ws: string, conversationId: string) => ({
  memories: `/api/workspaces/${ws}/memories`,
  memoriesByTitle: `/api/workspaces/${ws}/memories?sortBy=title&limit=5`,
  memoriesTagged: `/api/workspaces/${ws}/memories?tags=kept`,
  memoriesSearched: `/api/workspaces/${ws}/memories?search=cat`,
  conversations: `/api/workspaces/${ws}/conversations`,
  conversation: `/api/conversations/${conversationId}`,
  team: `/api/workspaces/${ws}/team`,
});
type Polled = keyof ReturnType<typeof polledUrls>;
const allMemoryLists: Polled[] = ['memories', 'memoriesByTitle', 'memoriesTagged', 'memoriesSearched'];

/**
 * A workspace with a conversation, and `poll`, which reads the `watched` answers on both
 * instances. Each instance's ETag changes when its body does; `moved` lists the answers whose
 * ETag the write must have changed, and the others must keep theirs; the current ETag gets 304
 * on the other instance, and the one from before a write that moved it no longer does.
 */
async function scenario(app: TestApp, other: TestApp['http'], watched: Polled[]) {
  const owner = await registerUser(app, { name: 'Owner' });
  const mate = await registerUser(app, { name: 'Mate' });
  const ws = await defaultWorkspace(app, owner);
  const conv = (await app.http.post(`/api/workspaces/${ws}/conversations`).set(owner.auth).send({ modelId: 'model-gpt-4o' })).body.data as { id: string };
  const urls = polledUrls(ws, conv.id);
  const instances = [app.http, other];
  const seen = new Map<string, { text: string; etag: string }>();
  const pollOne = async (label: string, name: Polled, moved: Polled[]) => {
    for (const [n, http] of instances.entries()) {
      const what = `${label}: ${name} on instance ${n}`;
      const res = await http.get(urls[name]).set(owner.auth);
      expect(res.status, what).toBe(200);
      const etag = String(res.headers.etag);
      expect(etag, what).toMatch(/^W\/"/);
      const before = seen.get(`${name}${n}`);
      if (before) {
        if (res.text !== before.text) expect(etag, `${what}: the ETag moves with the body`).not.toBe(before.etag);
        if (moved.includes(name)) expect(etag, `${what}: the write moves the ETag`).not.toBe(before.etag);
        else expect(etag, `${what}: a write it does not show keeps the ETag`).toBe(before.etag);
        if (moved.includes(name) && n === 0) expect((await http.get(urls[name]).set(owner.auth).set('If-None-Match', before.etag)).status, what).toBe(200);
      }
      seen.set(`${name}${n}`, { text: res.text, etag });
      const cached = await instances[1 - n]!.get(urls[name]).set(owner.auth).set('If-None-Match', etag);
      expect(cached.status, what).toBe(304);
      expect(cached.text, what).toBe('');
      expect(cached.headers.etag, what).toBe(etag);
    }
    // Both instances agree on the ETag of the same state.
    expect(seen.get(`${name}0`)!.etag, `${label}: ${name} is the same on both instances`).toBe(seen.get(`${name}1`)!.etag);
  };
  const poll = async (label: string, moved: Polled[] = []) => {
    await Promise.all(watched.map((name) => pollOne(label, name, moved)));
  };
  await poll('initial');
  return { owner, mate, ws, conv, poll, unwatch: (name: Polled) => watched.splice(watched.indexOf(name), 1) };
}

describeEachStorage(
  'poll ETags',
  (ctx) => {
    let other: Awaited<ReturnType<typeof secondInstance>>;
    beforeAll(async () => {
      expect(await ctx().deps.embeddings.embedder.load()).toBe(true);
      other = await secondInstance(ctx());
      // A search's ETag names the instance's embedding model: both rank alike once both loaded it.
      expect(await other.deps.embeddings.embedder.load()).toBe(true);
    });
    afterAll(async () => {
      await other?.close();
    });

    it('memory writes (create, embedding finished, edit, tags, delete) move the memory lists, on both instances', async () => {
      const app = ctx();
      const { owner, ws, conv, poll } = await scenario(app, other.http, [...allMemoryLists, 'conversation', 'team']);
      const memory = await addMemory(app, owner, ws, { title: 'Cats', content: 'the cat sat on the mat', tags: ['kept'] });
      await poll('memory created', allMemoryLists);
      await app.deps.embeddings.backlog.drain();
      expect((await app.deps.prisma.memory.findUniqueOrThrow({ where: { id: memory.id } })).embeddingStatus).toBe('ready');
      await poll('embedding finished', allMemoryLists);
      expect((await other.http.put(`/api/memories/${memory.id}`).set(owner.auth).send({ title: 'Cats and mats' })).status).toBe(200);
      await poll('memory edited on the second instance', allMemoryLists);
      expect((await app.http.put(`/api/memories/${memory.id}`).set(owner.auth).send({ tags: ['other'] })).status).toBe(200);
      await poll('tags changed', allMemoryLists);
      await app.deps.prisma.memory.update({ where: { id: memory.id }, data: { title: 'Renamed in the database' } });
      await poll('memory edited in the database', allMemoryLists);
      expect((await other.http.post(`/api/conversations/${conv.id}/inject-memory`).set(owner.auth).send({ memoryId: memory.id })).status).toBe(200);
      await poll('memory injected', ['conversation']);
      // A memory delete cascades to its injection: the conversation shows it no more.
      expect((await other.http.delete(`/api/memories/${memory.id}`).set(owner.auth)).status).toBe(200);
      await poll('memory deleted on the second instance', [...allMemoryLists, 'conversation']);
    });

    it('conversation writes (message, pin, injection, rename, delete) move the conversation and its list, on both instances', async () => {
      const app = ctx();
      const { owner, ws, conv, poll, unwatch } = await scenario(app, other.http, ['conversations', 'conversation', 'memories']);
      const memory = await addMemory(app, owner, ws, { title: 'Cats', content: 'the cat sat on the mat' });
      await poll('memory created', ['memories']);
      expect((await other.http.post(`/api/conversations/${conv.id}/inject-memory`).set(owner.auth).send({ memoryId: memory.id })).status).toBe(200);
      await poll('memory injected', ['conversation']);
      expect((await app.http.put(`/api/conversations/${conv.id}/inject-memory/${memory.id}/toggle`).set(owner.auth)).status).toBe(200);
      await poll('injection toggled', ['conversation']);
      const message = await app.deps.prisma.chatMessage.create({ data: { id: newId('msg'), conversationId: conv.id, role: 'user', content: 'hi' } });
      await poll('message stored', ['conversations', 'conversation']);
      // A pin bumps the conversation's updatedAt (C7), which the list shows.
      expect((await other.http.put(`/api/conversations/${conv.id}/messages/${message.id}`).set(owner.auth).send({ isPinned: true })).status).toBe(200);
      await poll('message pinned on the second instance', ['conversations', 'conversation']);
      expect((await app.http.put(`/api/conversations/${conv.id}`).set(owner.auth).send({ title: 'Renamed' })).status).toBe(200);
      await poll('conversation renamed', ['conversations', 'conversation']);
      expect((await app.http.delete(`/api/conversations/${conv.id}/messages/${message.id}`).set(owner.auth)).status).toBe(200);
      await poll('message deleted', ['conversations', 'conversation']);
      // A deleted conversation's version row goes with it.
      expect((await other.http.delete(`/api/conversations/${conv.id}`).set(owner.auth)).status).toBe(200);
      expect((await app.http.get(`/api/conversations/${conv.id}`).set(owner.auth)).status).toBe(404);
      unwatch('conversation');
      await poll('conversation deleted', ['conversations']);
    });

    it('member changes (join, role, status, name, removal) move the team, on both instances', async () => {
      const app = ctx();
      const { owner, mate, ws, poll } = await scenario(app, other.http, ['team', 'memories', 'conversations']);
      const invitation = await app.http.post(`/api/workspaces/${ws}/team/invite`).set(owner.auth).send({ email: mate.user.email, role: 'researcher' });
      expect(invitation.status).toBe(201);
      expect((await other.http.post(`/api/invitations/${invitation.body.data.id}/accept`).set(mate.auth)).status).toBe(200);
      await poll('member added', ['team']);
      expect((await other.http.put(`/api/workspaces/${ws}/team/${mate.user.id}/role`).set(owner.auth).send({ role: 'observer' })).status).toBe(200);
      await poll('role changed', ['team']);
      expect((await app.http.put(`/api/workspaces/${ws}/team/${mate.user.id}/status`).set(mate.auth).send({ status: 'away' })).status).toBe(200);
      await poll('status changed', ['team']);
      expect((await other.http.put('/api/auth/profile/update').set(mate.auth).send({ name: 'Renamed mate' })).status).toBe(200);
      await poll('member renamed their account', ['team']);
      expect((await app.http.delete(`/api/workspaces/${ws}/team/${mate.user.id}`).set(owner.auth)).status).toBe(200);
      await poll('member removed', ['team']);
    });

    it('the ETag follows the query: another sort, page or filter is another answer', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const ws = await defaultWorkspace(app, owner);
      await addMemory(app, owner, ws, { title: 'A', content: 'first' });
      const etagOf = async (query: string) => String((await app.http.get(`/api/workspaces/${ws}/memories${query}`).set(owner.auth)).headers.etag);
      const etags = await Promise.all(['', '?sortBy=title', '?limit=1', '?limit=1&offset=1', '?tags=x', '?search=first'].map(etagOf));
      expect(new Set(etags).size).toBe(etags.length);
      // The same query in another order is the same answer.
      expect(await etagOf('?sortBy=title&limit=1')).toBe(await etagOf('?limit=1&sortBy=title'));
    });
  },
  env,
);
