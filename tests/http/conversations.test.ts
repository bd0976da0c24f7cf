import { expect, it } from 'vitest';
import { describeEachStorage } from '../support/app.js';
import { addMember, createMemory, defaultWorkspaceId, newConversation } from '../support/chat.js';
import { registerUser } from '../support/factories.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/;
const tick = () => new Promise((r) => setTimeout(r, 5));

describeEachStorage('conversations', (ctx) => {
  it('C2 creates (201, full shape, author, activity); C1 lists items newest first; C3 reads', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const ws = await defaultWorkspaceId(app, s);
    const res = await app.http.post(`/api/workspaces/${ws}/conversations`).set(s.auth).send({ modelId: ' model-gpt-4o ' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      ok: true, error: null,
      data: { id: expect.stringMatching(/^conv-[0-9a-f]{12}$/), workspaceId: ws, title: 'New Conversation', modelId: 'model-gpt-4o', messages: [], injectedMemories: [], extraction: null, status: 'active', createdAt: expect.stringMatching(ISO), updatedAt: expect.stringMatching(ISO) },
    });
    const row = await app.deps.prisma.conversation.findUniqueOrThrow({ where: { id: res.body.data.id } });
    expect(row.createdById).toBe(s.user.id);
    const activity = await app.deps.prisma.activity.findFirstOrThrow({ where: { workspaceId: ws, type: 'conversation_created' } });
    expect(activity).toMatchObject({ description: "Conversation 'New Conversation' started", metadata: { conversationId: row.id, conversationTitle: 'New Conversation', modelId: 'model-gpt-4o' } });
    await tick();
    const second = await newConversation(app, s, 'model-echo');
    await app.http.post(`/api/conversations/${second.id}/messages`).set(s.auth).send({ content: 'hi', getAiResponse: false });
    const list = await app.http.get(`/api/workspaces/${ws}/conversations`).set(s.auth);
    expect(list.body.data.total).toBe(2);
    expect(list.body.data.conversations[0]).toEqual({ id: second.id, workspaceId: ws, title: 'Chat test', modelId: 'model-echo', status: 'active', messageCount: 1, lastUpdated: expect.stringMatching(ISO), createdAt: expect.stringMatching(ISO) });
    expect(list.body.data.conversations[1].id).toBe(row.id);
    const paged = await app.http.get(`/api/workspaces/${ws}/conversations?limit=1&offset=1`).set(s.auth);
    expect(paged.body.data).toMatchObject({ total: 2, conversations: [{ id: row.id }] });
    expect((await app.http.get(`/api/workspaces/${ws}/conversations?limit=abc`).set(s.auth)).status).toBe(400);
    const got = await app.http.get(`/api/conversations/${second.id}`).set(s.auth);
    expect(got.body.data.messages).toHaveLength(1);
  });

  it('C2 validation: modelId required, ≤ 50 characters (51 and 10,000 refused), title ≤ 255; missing workspace 404', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const ws = await defaultWorkspaceId(app, s);
    const post = (body: object) => app.http.post(`/api/workspaces/${ws}/conversations`).set(s.auth).send(body);
    expect((await post({})).body.error).toEqual({ modelId: ['This field is required.'] });
    expect((await post({ modelId: 'm'.repeat(51) })).body.error).toEqual({ modelId: ['Ensure this field has no more than 50 characters.'] });
    expect((await post({ modelId: 'm'.repeat(10_000) })).status).toBe(400);
    expect((await post({ modelId: 'x', title: '' })).body.error).toEqual({ title: ['This field may not be blank.'] });
    expect((await post({ modelId: 'x', title: 't'.repeat(256) })).body.error).toEqual({ title: ['Ensure this field has no more than 255 characters.'] });
    const missing = await app.http.post('/api/workspaces/workspace-000000000000/conversations').set(s.auth).send({ modelId: 'x' });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('Workspace not found');
    expect(await app.deps.prisma.conversation.count({ where: { workspaceId: ws } })).toBe(0);
  });

  it('C4 renames and bumps updatedAt; C5 deletes with messages and links; 404 afterwards', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const conv = await newConversation(app, s, 'model-echo');
    const before = (await app.http.get(`/api/conversations/${conv.id}`).set(s.auth)).body.data;
    await tick();
    const put = await app.http.put(`/api/conversations/${conv.id}`).set(s.auth).send({ title: 'Renamed' });
    expect(put.body.data).toMatchObject({ title: 'Renamed', status: 'active' });
    expect(put.body.data.updatedAt > before.updatedAt).toBe(true);
    expect((await app.http.put(`/api/conversations/${conv.id}`).set(s.auth).send({ status: 'sleeping' })).status).toBe(400);
    const m = await createMemory(app, conv.workspaceId, { title: 'M', content: 'c' });
    await app.http.post(`/api/conversations/${conv.id}/inject-memory`).set(s.auth).send({ memoryId: m.id });
    await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'x', getAiResponse: false });
    const del = await app.http.delete(`/api/conversations/${conv.id}`).set(s.auth);
    expect(del.body).toEqual({ ok: true, data: { message: 'Conversation deleted successfully' }, error: null });
    expect(await app.deps.prisma.chatMessage.count({ where: { conversationId: conv.id } })).toBe(0);
    expect(await app.deps.prisma.conversationMemory.count({ where: { conversationId: conv.id } })).toBe(0);
    expect(await app.deps.prisma.memory.count({ where: { id: m.id } })).toBe(1);
    const gone = await app.http.get(`/api/conversations/${conv.id}`).set(s.auth);
    expect(gone.status).toBe(404);
    expect(gone.body.error).toBe('Conversation not found');
  });

  it('C7 pins (bumping the conversation), C8 deletes; other conversations\' messages are 404', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const conv = await newConversation(app, s, 'model-echo');
    const other = await newConversation(app, s, 'model-echo');
    const sent = await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'pin me', getAiResponse: false });
    const msg = sent.body.data.userMessage;
    const before = await app.deps.prisma.conversation.findUniqueOrThrow({ where: { id: conv.id } });
    await tick();
    const pin = await app.http.put(`/api/conversations/${conv.id}/messages/${msg.id}`).set(s.auth).send({ isPinned: true });
    expect(pin.body.data).toEqual({ ...msg, isPinned: true });
    const after = await app.deps.prisma.conversation.findUniqueOrThrow({ where: { id: conv.id } });
    expect(after.updatedAt.getTime()).toBeGreaterThan(before.updatedAt.getTime());
    expect((await app.http.put(`/api/conversations/${conv.id}/messages/${msg.id}`).set(s.auth).send({ isPinned: 'perhaps' })).status).toBe(400);
    const wrong = await app.http.put(`/api/conversations/${other.id}/messages/${msg.id}`).set(s.auth).send({ isPinned: false });
    expect(wrong.status).toBe(404);
    expect(wrong.body.error).toBe('Message not found');
    expect((await app.http.delete(`/api/conversations/${other.id}/messages/${msg.id}`).set(s.auth)).status).toBe(404);
    const del = await app.http.delete(`/api/conversations/${conv.id}/messages/${msg.id}`).set(s.auth);
    expect(del.body.data).toEqual({ message: 'Message deleted successfully' });
    expect((await app.http.delete(`/api/conversations/${conv.id}/messages/${msg.id}`).set(s.auth)).status).toBe(404);
  });

  it('C9–C11: inject is get-or-create within the workspace; toggle flips; remove; no conversation bump', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const other = await registerUser(app);
    const conv = await newConversation(app, s, 'model-echo');
    const m1 = await createMemory(app, conv.workspaceId, { title: 'One', content: 'first' });
    const m2 = await createMemory(app, conv.workspaceId, { title: 'Two', content: 'second' });
    const foreign = await createMemory(app, await defaultWorkspaceId(app, other), { title: 'Foreign', content: 'x' });
    const before = await app.deps.prisma.conversation.findUniqueOrThrow({ where: { id: conv.id } });
    const inject = (memoryId?: unknown) => app.http.post(`/api/conversations/${conv.id}/inject-memory`).set(s.auth).send(memoryId === undefined ? {} : { memoryId });
    expect((await inject()).body).toEqual({ ok: false, data: null, error: 'memoryId required' });
    const foreignRes = await inject(foreign.id);
    expect(foreignRes.status).toBe(404);
    expect(foreignRes.body.error).toBe('Memory not found');
    expect((await inject('memory-doesnotexist')).status).toBe(404);
    expect((await inject(m1.id)).body.data).toEqual({ message: 'Memory injected successfully' });
    await inject(m2.id);
    const toggle = await app.http.put(`/api/conversations/${conv.id}/inject-memory/${m1.id}/toggle`).set(s.auth);
    expect(toggle.body.data).toEqual({ memoryId: m1.id, isActive: false, message: 'Memory paused' });
    await Promise.all([inject(m1.id), inject(m1.id)]); // repeat keeps the paused state, creates nothing
    let full = (await app.http.get(`/api/conversations/${conv.id}`).set(s.auth)).body.data;
    expect(full.injectedMemories).toEqual([{ id: m1.id, isActive: false }, { id: m2.id, isActive: true }]);
    expect((await app.http.put(`/api/conversations/${conv.id}/inject-memory/${m1.id}/toggle`).set(s.auth)).body.data).toEqual({ memoryId: m1.id, isActive: true, message: 'Memory activated' });
    const missing = await app.http.put(`/api/conversations/${conv.id}/inject-memory/${foreign.id}/toggle`).set(s.auth);
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('Memory injection not found');
    expect((await app.http.delete(`/api/conversations/${conv.id}/inject-memory/${m2.id}`).set(s.auth)).body.data).toEqual({ message: 'Memory removed successfully' });
    expect((await app.http.delete(`/api/conversations/${conv.id}/inject-memory/${m2.id}`).set(s.auth)).body.error).toBe('Memory injection not found');
    full = (await app.http.get(`/api/conversations/${conv.id}`).set(s.auth)).body.data;
    expect(full.injectedMemories).toEqual([{ id: m1.id, isActive: true }]);
    expect(full.updatedAt).toBe(before.updatedAt.toISOString());
  });

  it('C12 close keeps one transcript memory (§5.11); repeating is idempotent; reopen + new messages + close updates it', async () => {
    const app = ctx();
    const s = await registerUser(app);
    const conv = await newConversation(app, s, 'model-echo');
    const empty = await app.http.post(`/api/conversations/${conv.id}/close`).set(s.auth);
    expect(empty.body.data).toMatchObject({ memory: null, conversation: { status: 'completed' }, message: 'Conversation closed and summarized successfully' });
    await app.http.post(`/api/conversations/${conv.id}/reopen`).set(s.auth);
    await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'I prefer building the API in TypeScript' });
    const closed = await app.http.post(`/api/conversations/${conv.id}/close`).set(s.auth);
    expect(closed.status).toBe(200);
    const memory = closed.body.data.memory;
    expect(memory).toEqual({ id: expect.stringMatching(/^memory-[0-9a-f]{12}$/), title: 'Chat test', snippet: expect.stringMatching(/^User: I prefer building the API in TypeScript\n\nAssistant: \[Echo Mode\].{50,}\.\.\.$/s) });
    expect(memory.snippet).toHaveLength(153);
    const row = await app.deps.prisma.memory.findUniqueOrThrow({ where: { id: memory.id } });
    expect(row).toMatchObject({
      workspaceId: conv.workspaceId, authorId: s.user.id, version: 1, embeddingStatus: 'pending',
      tags: ['preference', 'project', 'design', 'backend', 'conversation-summary', 'auto-generated'], // 'ui' in 'building': plain substrings, as specified
      metadata: { source: 'conversation', conversation_id: conv.id, conversation_title: 'Chat test', model_used: 'model-echo', message_count: 2, auto_summarized: true, closed_at: expect.any(String) },
    });
    expect(row.content).toMatch(/^User: I prefer building the API in TypeScript\n\nAssistant: \[Echo Mode\] Received: I prefer/);
    // closing again (even concurrently) changes nothing
    const again = await Promise.all([1, 2].map(() => app.http.post(`/api/conversations/${conv.id}/close`).set(s.auth)));
    expect(again.map((r) => r.body.data.memory.id)).toEqual([memory.id, memory.id]);
    expect((await app.deps.prisma.memory.findUniqueOrThrow({ where: { id: memory.id } })).version).toBe(1);
    const reopened = await app.http.post(`/api/conversations/${conv.id}/reopen`).set(s.auth);
    expect(reopened.body.data).toMatchObject({ conversation: { status: 'active' }, message: 'Conversation reopened successfully' });
    await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'one more thing', getAiResponse: false });
    const third = await app.http.post(`/api/conversations/${conv.id}/close`).set(s.auth);
    expect(third.body.data.memory.id).toBe(memory.id);
    const updated = await app.deps.prisma.memory.findUniqueOrThrow({ where: { id: memory.id } });
    expect(updated.version).toBe(2);
    expect(updated.content.endsWith('\n\nUser: one more thing')).toBe(true);
    expect(await app.deps.prisma.memory.count({ where: { workspaceId: conv.workspaceId } })).toBe(1);
    expect(await app.deps.prisma.activity.count({ where: { workspaceId: conv.workspaceId, type: 'memory_created' } })).toBe(0);
  });

  it('C12 honours autoStore=false: closed, no memory', async () => {
    const app = ctx();
    const s = await registerUser(app);
    await app.deps.prisma.user.update({ where: { id: s.user.id }, data: { autoStore: false } });
    const conv = await newConversation(app, s, 'model-echo');
    await app.http.post(`/api/conversations/${conv.id}/messages`).set(s.auth).send({ content: 'hello' });
    const closed = await app.http.post(`/api/conversations/${conv.id}/close`).set(s.auth);
    expect(closed.body.data).toMatchObject({ memory: null, conversation: { status: 'completed' } });
    expect(await app.deps.prisma.memory.count({ where: { workspaceId: conv.workspaceId } })).toBe(0);
  });

  it('roles (D6): observers read only; researchers write; strangers 403 everywhere', async () => {
    const app = ctx();
    const owner = await registerUser(app);
    const observer = await registerUser(app);
    const researcher = await registerUser(app);
    const stranger = await registerUser(app);
    const ws = await defaultWorkspaceId(app, owner);
    await addMember(app, ws, observer, 'observer');
    await addMember(app, ws, researcher, 'researcher');
    const conv = await newConversation(app, researcher, 'model-echo', ws);
    expect((await app.http.get(`/api/workspaces/${ws}/conversations`).set(observer.auth)).status).toBe(200);
    expect((await app.http.get(`/api/conversations/${conv.id}`).set(observer.auth)).status).toBe(200);
    for (const [method, path, body] of [
      ['post', `/api/workspaces/${ws}/conversations`, { modelId: 'x' }],
      ['put', `/api/conversations/${conv.id}`, { title: 'x' }],
      ['delete', `/api/conversations/${conv.id}`, {}],
      ['post', `/api/conversations/${conv.id}/close`, {}],
      ['post', `/api/conversations/${conv.id}/reopen`, {}],
      ['post', `/api/conversations/${conv.id}/inject-memory`, { memoryId: 'memory-x' }],
    ] as const) {
      const denied = await app.http[method](path).set(observer.auth).send(body);
      expect(denied.status, `${method} ${path}`).toBe(403);
      expect(denied.body.error).toBe('Access denied');
      expect((await app.http[method](path).set(stranger.auth).send(body)).status).toBe(403);
    }
    expect((await app.http.get(`/api/conversations/${conv.id}`).set(stranger.auth)).status).toBe(403);
    expect((await app.http.put(`/api/conversations/${conv.id}`).set(researcher.auth).send({ title: 'ok' })).status).toBe(200);
  });
});
