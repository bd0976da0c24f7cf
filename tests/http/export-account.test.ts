import { expect, it } from 'vitest';
import { newId } from '../../src/lib/ids.js';
import { describeEachStorage, type TestApp } from '../support/app.js';
import { registerUser, type Session } from '../support/factories.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const CIPHERTEXT = 'v1:aXZpdml2aXZpdml2:dGFndGFndGFn:c2VjcmV0LWNpcGhlcnRleHQ';

/** A with two owned workspaces and a membership in B's; content, an integration and tokens everywhere. */
async function seedWorld(app: TestApp) {
  const p = app.deps.prisma;
  const a = await registerUser(app, { name: 'Ada' });
  const b = await registerUser(app, { name: 'Bob' });
  const c = await registerUser(app, { name: 'Cy' });
  const aHome = await p.workspace.findFirstOrThrow({ where: { ownerId: a.user.id } });
  const bHome = await p.workspace.findFirstOrThrow({ where: { ownerId: b.user.id } });
  const aLab = await app.http.post('/api/workspaces').set(a.auth).send({ name: 'Lab' });
  const aLabId: string = aLab.body?.data?.id ?? (await p.workspace.create({ data: { id: newId('workspace'), name: 'Lab', ownerId: a.user.id } })).id;
  await p.teamMember.create({ data: { id: newId('tm'), userId: a.user.id, workspaceId: bHome.id, role: 'researcher' } });
  const conv = async (workspaceId: string, author: Session, n: number) => {
    const row = await p.conversation.create({ data: { id: newId('conv'), workspaceId, title: `Chat in ${workspaceId}`, modelId: 'model-gpt-4o', createdById: author.user.id } });
    for (let i = 0; i < n; i++) {
      await p.chatMessage.create({ data: { id: newId('msg'), conversationId: row.id, role: i % 2 ? 'assistant' : 'user', content: `message ${i}`, authorId: author.user.id, metadata: i % 2 ? { tokens: 3, provider: 'openai' } : {} } });
    }
    return row;
  };
  const aConv = await conv(aHome.id, a, 3);
  const aInB = await conv(bHome.id, a, 2);
  const aMemory = await p.memory.create({ data: { id: newId('memory'), workspaceId: aHome.id, title: 'Mine', content: 'my content', snippet: 'my content', tags: ['t1'], metadata: { source: 'x' }, authorId: a.user.id } });
  await p.conversationMemory.create({ data: { conversationId: aConv.id, memoryId: aMemory.id } });
  await p.memoryChunk.create({ data: { memoryId: aMemory.id, workspaceId: aHome.id, chunkIndex: 0, content: 'my content', vector: Buffer.alloc(16), dimensions: 4, model: 'test' } });
  const aMemoryInB = await p.memory.create({ data: { id: newId('memory'), workspaceId: bHome.id, title: 'Written by Ada in Bob\'s', content: 'shared', snippet: 'shared', authorId: a.user.id } });
  await p.memory.createMany({
    data: Array.from({ length: 1101 }, (_, i) => ({ id: newId('memory'), workspaceId: aLabId, title: `Bulk ${i}`, content: `bulk content ${i}`, snippet: `bulk ${i}` })),
  });
  const longChat = await p.conversation.create({ data: { id: newId('conv'), workspaceId: aLabId, title: 'Long', modelId: 'model-gpt-4o' } });
  const sameInstant = new Date();
  const run = newId('msg').slice(4, 10);
  await p.chatMessage.createMany({
    data: Array.from({ length: 1001 }, (_, i) => ({ id: `msg-${run}${i.toString(16).padStart(6, '0')}`, conversationId: longChat.id, role: 'user', content: `long ${i}`, timestamp: sameInstant })),
  });
  await p.integration.create({ data: { id: newId('int'), userId: a.user.id, provider: 'openai', apiKey: CIPHERTEXT, status: 'connected', lastTested: new Date() } });
  await p.workspaceInvitation.create({ data: { id: newId('inv'), workspaceId: aHome.id, inviterId: a.user.id, inviteeId: c.user.id } });
  await p.workspaceInvitation.create({ data: { id: newId('inv'), workspaceId: bHome.id, inviterId: a.user.id, inviteeId: c.user.id } });
  await p.workspaceInvitation.create({ data: { id: newId('inv'), workspaceId: (await p.workspace.findFirstOrThrow({ where: { ownerId: c.user.id } })).id, inviterId: c.user.id, inviteeId: a.user.id } });
  await p.systemLoadSnapshot.create({ data: { id: newId('load'), workspaceId: aHome.id, bucket: new Date(), value: 5 } });
  await p.workspaceIndexStamp.upsert({ where: { workspaceId: aHome.id }, create: { workspaceId: aHome.id, version: 1n }, update: {} });
  return { a, b, c, aHome, aLabId, bHome, aConv, aInB, aMemory, aMemoryInB };
}

describeEachStorage('export and account deletion', (ctx) => {
  it('S6: streams a complete raw JSON file (owned and joined workspaces, 2-space indent), never a key', async () => {
    const app = ctx();
    const w = await seedWorld(app);
    const res = await app.http.get('/api/export').set(w.a.auth).buffer(true).parse((r, cb) => {
      let text = '';
      r.setEncoding('utf8');
      r.on('data', (c: string) => (text += c));
      r.on('end', () => cb(null, text));
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="chimera_data_export_\d{8}_\d{6}\.json"$/);
    const text = res.body as string;
    const doc = JSON.parse(text);
    expect(text).toBe(JSON.stringify(doc, null, 2));
    expect(text).not.toContain(CIPHERTEXT);
    expect(text).not.toMatch(/apiKey|api_key/);
    expect(Object.keys(doc)).toEqual(['user', 'settings', 'workspaces', 'integrations']);
    expect(doc.user).toEqual({ id: w.a.user.id, name: 'Ada', email: w.a.user.email, createdAt: expect.stringMatching(ISO) });
    expect(doc.settings).toEqual({ profile: { name: 'Ada', email: w.a.user.email }, memoryRetention: { autoStore: true, retentionPeriod: 'indefinite-84' } });
    expect(doc.workspaces.map((ws: { id: string; isOwner: boolean }) => [ws.id, ws.isOwner]).sort()).toEqual([[w.aHome.id, true], [w.aLabId, true], [w.bHome.id, false]].sort());
    const home = doc.workspaces.find((ws: { id: string }) => ws.id === w.aHome.id);
    expect(Object.keys(home)).toEqual(['id', 'name', 'description', 'ownerId', 'isOwner', 'createdAt', 'updatedAt', 'conversations', 'memories']);
    expect(home.conversations).toHaveLength(1);
    expect(home.conversations[0].messages.map((m: { content: string }) => m.content)).toEqual(['message 0', 'message 1', 'message 2']);
    expect(Object.keys(home.conversations[0].messages[1])).toEqual(['id', 'role', 'content', 'isPinned', 'timestamp', 'metadata']);
    expect(home.memories).toEqual([{ id: w.aMemory.id, title: 'Mine', content: 'my content', snippet: 'my content', tags: ['t1'], metadata: { source: 'x' }, version: 1, createdAt: expect.stringMatching(ISO), updatedAt: expect.stringMatching(ISO) }]);
    const lab = doc.workspaces.find((ws: { id: string }) => ws.id === w.aLabId);
    expect(lab.memories).toHaveLength(1101);
    expect(lab.conversations[0].messages.map((m: { content: string }) => m.content)).toEqual(Array.from({ length: 1001 }, (_, i) => `long ${i}`));
    expect(new Set(lab.memories.map((m: { id: string }) => m.id)).size).toBe(1101);
    const joined = doc.workspaces.find((ws: { id: string }) => ws.id === w.bHome.id);
    expect(joined.memories.map((m: { id: string }) => m.id)).toEqual([w.aMemoryInB.id]);
    expect(doc.integrations).toEqual([{ id: expect.stringMatching(/^int-/), provider: 'openai', status: 'connected', lastTested: expect.stringMatching(ISO), createdAt: expect.stringMatching(ISO) }]);
    expect((await app.http.get('/api/export')).status).toBe(401);
  });

  it('S7: deletes the account in one transaction; tokens die; nothing of theirs remains but content in others\' workspaces', async () => {
    const app = ctx();
    const p = app.deps.prisma;
    const w = await seedWorld(app);
    const res = await app.http.delete('/api/account').set(w.a.auth);
    expect(res.body).toEqual({ ok: true, error: null, data: { message: 'Account successfully deleted' } });
    const after = await app.http.get('/api/settings').set(w.a.auth);
    expect(after.status).toBe(401);
    expect(after.body.error).toBe('User not found');
    expect((await app.http.post('/api/auth/refresh').send({ refresh: w.a.refresh })).status).toBe(401);
    const aId = w.a.user.id;
    const owned = [w.aHome.id, w.aLabId];
    const counts = {
      users: await p.user.count({ where: { id: aId } }),
      refreshTokens: await p.refreshToken.count({ where: { userId: aId } }),
      workspaces: await p.workspace.count({ where: { OR: [{ ownerId: aId }, { id: { in: owned } }] } }),
      members: await p.teamMember.count({ where: { OR: [{ userId: aId }, { workspaceId: { in: owned } }] } }),
      invitations: await p.workspaceInvitation.count({ where: { OR: [{ inviterId: aId }, { inviteeId: aId }, { workspaceId: { in: owned } }] } }),
      integrations: await p.integration.count({ where: { userId: aId } }),
      conversations: await p.conversation.count({ where: { OR: [{ workspaceId: { in: owned } }, { createdById: aId }] } }),
      messages: await p.chatMessage.count({ where: { OR: [{ conversationId: w.aConv.id }, { authorId: aId }] } }),
      memories: await p.memory.count({ where: { OR: [{ workspaceId: { in: owned } }, { authorId: aId }] } }),
      chunks: await p.memoryChunk.count({ where: { workspaceId: { in: owned } } }),
      links: await p.conversationMemory.count({ where: { conversationId: w.aConv.id } }),
      snapshots: await p.systemLoadSnapshot.count({ where: { workspaceId: { in: owned } } }),
      stamps: await p.workspaceIndexStamp.count({ where: { workspaceId: { in: owned } } }),
      activities: await p.activity.count({ where: { workspaceId: { in: owned } } }),
    };
    expect(counts).toEqual(Object.fromEntries(Object.keys(counts).map((k) => [k, 0])));
    // What Ada wrote in Bob's workspace stays, authorless, and still works.
    const kept = await p.memory.findUniqueOrThrow({ where: { id: w.aMemoryInB.id } });
    expect(kept.authorId).toBeNull();
    const keptConv = await p.conversation.findUniqueOrThrow({ where: { id: w.aInB.id }, include: { messages: true } });
    expect(keptConv.createdById).toBeNull();
    expect(keptConv.messages.map((m) => m.authorId)).toEqual([null, null]);
    // Bob and Cy are untouched.
    expect((await app.http.get('/api/settings').set(w.b.auth)).status).toBe(200);
    expect(await p.workspace.count({ where: { id: w.bHome.id } })).toBe(1);
    // Orphan check over every table with a foreign key (the database enforces them; this proves it).
    const orphans = await p.$queryRaw<{ n: bigint }[]>`
      SELECT (SELECT count(*) FROM team_members t LEFT JOIN users u ON u.id = t.user_id WHERE u.id IS NULL)
           + (SELECT count(*) FROM memories m LEFT JOIN workspaces w ON w.id = m.workspace_id WHERE w.id IS NULL)
           + (SELECT count(*) FROM chat_messages c LEFT JOIN conversations v ON v.id = c.conversation_id WHERE v.id IS NULL)
           + (SELECT count(*) FROM integrations i LEFT JOIN users u ON u.id = i.user_id WHERE u.id IS NULL) AS n`;
    expect(Number(orphans[0]!.n)).toBe(0);
  });

  it('S7: the shared workspaces\' dashboard and activity stop naming the deleted member (name and id)', async () => {
    const app = ctx();
    const bob = await registerUser(app, { name: 'Bob Keeper' });
    const zed = await registerUser(app, { name: 'Zed Leaving' });
    const team = (await app.http.post('/api/workspaces').set(bob.auth).send({ name: 'Shared lab' })).body.data.id as string;
    const sent = await app.http.post(`/api/workspaces/${team}/team/invite`).set(bob.auth).send({ email: zed.user.email, role: 'researcher' });
    expect((await app.http.post(`/api/invitations/${sent.body.data.id}/accept`).set(zed.auth)).status).toBe(200);
    // Zed renames themselves after joining: the row still names the old name, and must go too.
    expect((await app.http.put('/api/settings/profile').set(zed.auth).send({ name: 'Zed Renamed' })).status).toBe(200);
    const conv = (await app.http.post(`/api/workspaces/${team}/conversations`).set(zed.auth).send({ modelId: 'model-echo', title: 'Notes' })).body.data.id as string;
    expect((await app.http.post(`/api/conversations/${conv}/messages`).set(zed.auth).send({ content: 'hello team', getAiResponse: false })).status).toBe(201);
    const activity = () => app.http.get(`/api/workspaces/${team}/activity`).set(bob.auth);
    const dashboard = () => app.http.get(`/api/workspaces/${team}/dashboard`).set(bob.auth);
    expect(JSON.stringify((await activity()).body.data)).toContain('Zed Leaving');
    expect(JSON.stringify((await activity()).body.data)).toContain(zed.user.id);

    expect((await app.http.delete('/api/account').set(zed.auth)).status).toBe(200);
    for (const res of [await activity(), await dashboard()]) {
      expect(res.status).toBe(200);
      const text = JSON.stringify(res.body.data);
      expect(text).not.toContain('Zed');
      expect(text).not.toContain(zed.user.id);
    }
    const items = (await activity()).body.data.activities as { type: string; message: string; metadata: Record<string, unknown> }[];
    const added = items.filter((a) => a.type === 'team_member_added');
    expect(added.map((a) => [a.message, a.metadata])).toEqual([
      ['A former member was added as researcher', { userId: null, teamMemberId: null, role: 'researcher' }],
      ['Team member Bob Keeper added as admin', expect.objectContaining({ userId: bob.user.id, role: 'admin' })],
    ]);
    // what the member did stays in the history, without their name
    expect(items.map((a) => a.type)).toEqual(expect.arrayContaining(['conversation_created', 'message_sent']));
    expect((await dashboard()).body.data.recentActivity.map((a: { message: string }) => a.message)).toContain('A former member was added as researcher');
  });
});
