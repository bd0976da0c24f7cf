/**
 * D21: a request costs fewer than 10 SQL statements whatever its size. The statements are
 * counted where the driver sends them (src/db/client.ts `onStatement`: the pg client of the
 * request pool, the PGlite instance's protocol messages), authentication and transaction
 * control included. Nothing else runs meanwhile (the embedding backlog is not started here).
 */
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase, storages } from '../support/db.js';
import { registerUser, type Session } from '../support/factories.js';
import { addMember, defaultWorkspace } from '../support/memories.js';

const LIMIT = 10;

for (const storage of storages()) {
  describe(`statements per request [${storage}]`, () => {
    const sent: string[] = [];
    let app: TestApp;

    beforeAll(async () => {
      app = await startTestApp(storage, {}, await createTestDatabase(storage, { onStatement: (sql) => sent.push(sql) }));
    });
    afterAll(async () => {
      await app?.close();
    });

    /** The statements `request` costs, from its first byte to its last and any work it left running. */
    async function statementsOf(request: () => PromiseLike<Response>): Promise<{ res: Response; statements: string[] }> {
      await Promise.allSettled([...app.deps.background]);
      sent.length = 0;
      const res = await request();
      await Promise.allSettled([...app.deps.background]);
      return { res, statements: sent.splice(0) };
    }

    const expectFew = (statements: string[]) => expect(statements.length, statements.join('\n')).toBeLessThan(LIMIT);

    /** `count` conversations of three messages each, spread over the user's own workspace, another of theirs and one they joined. */
    async function userWithConversations(count: number): Promise<{ session: Session; workspaceIds: string[] }> {
      const p = app.deps.prisma;
      const session = await registerUser(app);
      const other = await registerUser(app);
      const home = await defaultWorkspace(app, session);
      const lab = (await p.workspace.create({ data: { id: newId('workspace'), name: 'Lab', ownerId: session.user.id } })).id;
      const joined = await defaultWorkspace(app, other);
      await addMember(app, joined, session.user.id, 'researcher');
      const workspaceIds = [home, lab, joined];
      const conversations = Array.from({ length: count }, (_, i) => ({ id: newId('conv'), workspaceId: workspaceIds[i % 3]!, title: `Chat ${i}`, modelId: 'model-echo' }));
      await p.conversation.createMany({ data: conversations });
      await p.chatMessage.createMany({
        data: conversations.flatMap((c) => [0, 1, 2].map((n) => ({ id: newId('msg'), conversationId: c.id, role: n % 2 ? 'assistant' : 'user', content: `${c.title} message ${n}` }))),
      });
      await p.memory.createMany({ data: workspaceIds.map((workspaceId, i) => ({ id: newId('memory'), workspaceId, title: `Memory ${i}`, content: 'text', snippet: 'text' })) });
      return { session, workspaceIds };
    }

    it('the export of a user with 50 conversations, as few as with one', async () => {
      const many = await userWithConversations(50);
      const { res, statements } = await statementsOf(() => app.http.get('/api/export').set(many.session.auth));
      expect(res.status).toBe(200);
      const exported = JSON.parse(res.text) as { workspaces: { conversations: { messages: unknown[] }[] }[] };
      const conversations = exported.workspaces.flatMap((w) => w.conversations);
      expect(conversations).toHaveLength(50);
      expect(conversations.every((c) => c.messages.length === 3)).toBe(true);
      expectFew(statements);

      const one = await userWithConversations(1);
      expect((await statementsOf(() => app.http.get('/api/export').set(one.session.auth))).statements).toHaveLength(statements.length);
    });

    it('the batch-remember of 100 items, as few as of one', async () => {
      const session = await registerUser(app);
      const items = Array.from({ length: 100 }, (_, i) => ({ text: `item ${i}`, tags: ['batch'], metadata: { n: i } }));
      const { res, statements } = await statementsOf(() => app.http.post('/api/mcp/batch-remember').set(session.auth).send({ memories: items }));
      expect(res.status).toBe(201);
      expect(res.body.data.created).toBe(100);
      expectFew(statements);
      // Stored as one by one: in the given order of creation, each with its own tags and metadata.
      const stored = await app.deps.prisma.memory.findMany({ where: { workspaceId: res.body.data.memories[0].workspace_id }, orderBy: { createdAt: 'asc' } });
      expect(stored.map((m) => [m.id, m.title, m.tags, m.metadata, m.version, m.embeddingStatus, m.authorId])).toEqual(
        items.map((item, i) => [res.body.data.memories[i].id, item.text, ['batch'], { n: i }, 1, 'pending', session.user.id]),
      );

      const single = await statementsOf(() => app.http.post('/api/mcp/batch-remember').set(session.auth).send({ memories: [{ text: 'one' }] }));
      expect(single.res.status).toBe(201);
      expect(single.statements).toHaveLength(statements.length);
    });

    it('the workspace list', async () => {
      const { session } = await userWithConversations(12);
      const { res, statements } = await statementsOf(() => app.http.get('/api/workspaces').set(session.auth));
      expect(res.status).toBe(200);
      expect(res.body.data.workspaces ?? res.body.data).toHaveLength(3);
      expectFew(statements);
    });

    it('the conversation read', async () => {
      const { session, workspaceIds } = await userWithConversations(3);
      const conversation = await app.deps.prisma.conversation.findFirstOrThrow({ where: { workspaceId: workspaceIds[0] } });
      const { res, statements } = await statementsOf(() => app.http.get(`/api/conversations/${conversation.id}`).set(session.auth));
      expect(res.status).toBe(200);
      expect(res.body.data.messages).toHaveLength(3);
      expectFew(statements);
    });
  });
}
