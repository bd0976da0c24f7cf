import { beforeAll, expect, it } from 'vitest';
import { loadEmbeddingModel } from '../../src/services/embeddings/model.js';
import { bytesToVector } from '../../src/lib/vectors.js';
import { describeEachStorage, type TestApp } from '../support/app.js';
import { registerUser } from '../support/factories.js';
import { addMember, addMemory, defaultWorkspace, tinyModelEnv } from '../support/memories.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const env = tinyModelEnv();

/** The same tests over both vector backends (pgvector where the database has it). */
const memoriesSuite = (ctx: () => TestApp) => {
    beforeAll(async () => {
      ctx().deps.embeddings.start();
      expect(await ctx().deps.embeddings.embedder.load()).toBe(true);
    });
    const drain = () => ctx().deps.embeddings.backlog.drain();

    it('M2 creates (201, Part B shape, pending, activity), then the backlog embeds it; M3 shows the first chunk vector', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const ws = await defaultWorkspace(app, owner);
      const content = `${'x'.repeat(10)}${' the cat sat on the mat'.repeat(10)}`;
      const res = await app.http.post(`/api/workspaces/${ws}/memories`).set(owner.auth).send({ title: '  Cats  ', content: `  ${content}  `, tags: ['pets', 'pets', 'animals'], metadata: { source: 'manual' } });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        ok: true,
        error: null,
        data: {
          id: expect.stringMatching(/^memory-[0-9a-f]{12}$/),
          workspaceId: ws,
          title: 'Cats',
          content,
          snippet: `${content.slice(0, 150)}...`,
          tags: ['pets', 'animals'],
          embedding: null,
          embeddingStatus: 'pending',
          metadata: { source: 'manual' },
          version: 1,
          createdAt: expect.stringMatching(ISO),
          updatedAt: expect.stringMatching(ISO),
        },
      });
      const id = res.body.data.id;
      const activity = await app.deps.prisma.activity.findFirst({ where: { workspaceId: ws, type: 'memory_created' } });
      expect(activity).toMatchObject({ description: "Memory 'Cats' created", metadata: { memoryId: id, memoryTitle: 'Cats' } });

      await drain();
      const got = await app.http.get(`/api/memories/${id}`).set(owner.auth);
      expect(got.status).toBe(200);
      expect(got.body.data.embeddingStatus).toBe('ready');
      expect(got.body.data.embedding).toHaveLength(384);
      expect(got.body.data.version).toBe(1);
      expect(got.body.data.updatedAt).toBe(res.body.data.updatedAt); // storing vectors is not an edit

      // Stored as float32 little-endian, read back bit-exact, and equal to the model's own output.
      const chunks = await app.deps.prisma.memoryChunk.findMany({ where: { memoryId: id }, orderBy: { chunkIndex: 'asc' } });
      expect(chunks.length).toBe(1);
      expect(chunks[0]).toMatchObject({ dimensions: 384, model: env.EMBEDDING_MODEL, workspaceId: ws });
      expect(chunks[0]!.vector.byteLength).toBe(384 * 4);
      const stored = bytesToVector(chunks[0]!.vector);
      const model = await loadEmbeddingModel({ modelDir: env.EMBEDDING_MODEL_DIR!, modelName: env.EMBEDDING_MODEL!, allowDownload: false, chunkTokens: 256, chunkOverlap: 32 });
      const [expected] = await model.embed([`Cats\n\n${content}`]);
      expect(Buffer.from(stored.buffer).equals(Buffer.from(expected!.buffer))).toBe(true);
      expect(got.body.data.embedding).toEqual(Array.from(stored, (v) => Math.round(v * 10_000) / 10_000));
    });

    it('long content is split into overlapping token-bounded chunks, one vector each', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const ws = await defaultWorkspace(app, owner);
      const words = Array.from({ length: 900 }, (_, i) => ['rocket', 'launch', 'moon', 'orbit', 'mars'][i % 5]);
      const memory = await addMemory(app, owner, ws, { title: 'Long', content: words.join(' ') });
      await drain();
      const chunks = await app.deps.prisma.memoryChunk.findMany({ where: { memoryId: memory.id }, orderBy: { chunkIndex: 'asc' } });
      expect(chunks.length).toBeGreaterThanOrEqual(4);
      const counts = chunks.map((c) => c.content.split(/\s+/).length);
      expect(Math.max(...counts)).toBeLessThanOrEqual(254);
      // consecutive chunks overlap: the next starts before the previous ended
      expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThan(901);
    });

    it.each([
      [{}, { title: ['This field is required.'], content: ['This field is required.'] }],
      [{ title: ' ', content: '' }, { title: ['This field may not be blank.'], content: ['This field may not be blank.'] }],
      [{ title: 'x'.repeat(256), content: 'c' }, { title: ['Ensure this field has no more than 255 characters.'] }],
      [{ title: 't', content: 'c', tags: [1, 'ok', null] }, { tags: { 0: ['Not a valid string.'], 2: ['This field may not be null.'] } }],
      [{ title: 't', content: 'c', tags: 'pets' }, { tags: ['Expected a list of items but got type "string".'] }],
      [{ title: 't', content: 'c', tags: Array.from({ length: 10_000 }, (_, i) => `t${i}`) }, { tags: ['Ensure this field has no more than 100 elements.'] }],
      [{ title: 't', content: 'c', metadata: [1] }, { metadata: ['Expected a dictionary of items but got type "list".'] }],
      [{ title: 't', content: 'c', metadata: 'x' }, { metadata: ['Expected a dictionary of items but got type "string".'] }],
      [{ title: 't', content: 'a\u0000b' }, { content: ['Null characters are not allowed.'] }],
      [{ title: 't', content: 'c', metadata: { k: 'a\u0000b' } }, { metadata: ['Null characters are not allowed.'] }],
    ])('M2 bad input %# → 400 field errors, nothing stored', async (body, error) => {
      const app = ctx();
      const owner = await registerUser(app);
      const ws = await defaultWorkspace(app, owner);
      const res = await app.http.post(`/api/workspaces/${ws}/memories`).set(owner.auth).send(body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ ok: false, data: null, error });
      expect(await app.deps.prisma.memory.count({ where: { workspaceId: ws } })).toBe(0);
    });

    it('M2: a non-object body, a 5 MB body (413) and unknown workspaces are clean 4xx', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const ws = await defaultWorkspace(app, owner);
      const list = await app.http.post(`/api/workspaces/${ws}/memories`).set(owner.auth).set('Content-Type', 'application/json').send('[]');
      expect(list.status).toBe(400);
      expect(list.body.error).toEqual({ non_field_errors: ['Invalid data. Expected a dictionary, but got list.'] });
      const huge = await app.http.post(`/api/workspaces/${ws}/memories`).set(owner.auth).send({ title: 'big', content: 'a'.repeat(5 * 1024 * 1024) });
      expect(huge.status).toBe(413);
      expect(huge.body).toEqual({ ok: false, data: null, error: 'Request body too large' });
      const missing = await app.http.post('/api/workspaces/workspace-000000000000/memories').set(owner.auth).send({ title: 't', content: 'c' });
      expect(missing.status).toBe(404);
      expect(missing.body.error).toBe('Workspace not found');
    });

    it('a memory close to the body limit is stored whole, indexed lexically and embedded in many chunks', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const ws = await defaultWorkspace(app, owner);
      const words = ['rocket', 'launch', 'moon', 'orbit', 'mars', 'pizza', 'cheese', 'oven'];
      const content = `uniquestart ${Array.from({ length: 110_000 }, (_, i) => words[(i * 5) % 8]).join(' ')}`;
      expect(content.length).toBeGreaterThan(600_000);
      const memory = await addMemory(app, owner, ws, { title: 'Big', content });
      const lexical = await app.http.post('/api/memories/search').set(owner.auth).send({ query: 'uniquestart', workspaceId: ws });
      expect(lexical.body.data.results.map((r: { id: string }) => r.id)).toEqual([memory.id]);
      await drain();
      const stored = await app.deps.prisma.memory.findUniqueOrThrow({ where: { id: memory.id } });
      expect(stored.content).toBe(content);
      expect(await app.deps.prisma.memoryChunk.count({ where: { memoryId: memory.id } })).toBeGreaterThan(400);
    });

    it('keeps RTL text and emoji intact; the snippet counts characters, not UTF-16 units', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const ws = await defaultWorkspace(app, owner);
      const content = '🚀'.repeat(149) + 'שלום עולם مرحبا';
      const memory = await addMemory(app, owner, ws, { title: 'שלום 👋', content, tags: ['עברית', '😀'] });
      expect(memory.snippet).toBe(`${'🚀'.repeat(149)}ש...`);
      await drain();
      const got = await app.http.get(`/api/memories/${memory.id}`).set(owner.auth);
      expect(got.body.data).toMatchObject({ title: 'שלום 👋', content, tags: ['עברית', '😀'], embeddingStatus: 'ready' });
    });

    it('M4: version +1 on every PUT (even a no-op), snippet only on content change, text change re-embeds', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const ws = await defaultWorkspace(app, owner);
      const m = await addMemory(app, owner, ws, { title: 'T', content: 'the cat sat', tags: ['a'] });
      await drain();
      const noop = await app.http.put(`/api/memories/${m.id}`).set(owner.auth).send({});
      expect(noop.status).toBe(200);
      expect(noop.body.data).toMatchObject({ version: 2, snippet: 'the cat sat', embeddingStatus: 'ready' });
      const tagsOnly = await app.http.put(`/api/memories/${m.id}`).set(owner.auth).send({ tags: ['b'], metadata: { x: 1 } });
      expect(tagsOnly.body.data).toMatchObject({ version: 3, tags: ['b'], metadata: { x: 1 }, embeddingStatus: 'ready' });
      const edit = await app.http.put(`/api/memories/${m.id}`).set(owner.auth).send({ content: ' rocket launch ' });
      expect(edit.body.data).toMatchObject({ version: 4, content: ' rocket launch ', snippet: ' rocket launch ', embeddingStatus: 'pending', embedding: null });
      await drain();
      const chunk = await app.deps.prisma.memoryChunk.findFirstOrThrow({ where: { memoryId: m.id } });
      expect(chunk.content).toBe('T\n\n rocket launch');
      const bad = await app.http.put(`/api/memories/${m.id}`).set(owner.auth).send({ title: null });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toBe('This field may not be null.');
      const unknown = await app.http.put('/api/memories/memory-000000000000').set(owner.auth).send({ title: 'x' });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error).toBe('Memory not found');
    });

    it('M4: concurrent PUTs get distinct consecutive versions', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const ws = await defaultWorkspace(app, owner);
      const m = await addMemory(app, owner, ws, { title: 'T', content: 'c' });
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => app.http.put(`/api/memories/${m.id}`).set(owner.auth).send({ title: `T${i}` })));
      expect(results.every((r) => r.status === 200)).toBe(true);
      expect(results.map((r) => r.body.data.version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    });

    it('M6 re-embed really recomputes (version +1, new vectors); M5 deletes (then 404)', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const ws = await defaultWorkspace(app, owner);
      const m = await addMemory(app, owner, ws, { title: 'T', content: 'pizza cheese' });
      await drain();
      const before = await app.deps.prisma.memoryChunk.findFirstOrThrow({ where: { memoryId: m.id } });
      await app.deps.prisma.memoryChunk.update({ where: { id: before.id }, data: { vector: new Uint8Array(384 * 4) } }); // corrupt it
      const res = await app.http.post(`/api/memories/${m.id}/re-embed`).set(owner.auth);
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ id: m.id, version: 2, embeddingStatus: 'pending' });
      expect(res.body.data.updatedAt > m.updatedAt).toBe(true);
      await drain();
      const after = await app.deps.prisma.memoryChunk.findFirstOrThrow({ where: { memoryId: m.id } });
      expect(Buffer.from(after.vector).equals(Buffer.from(before.vector))).toBe(true);
      expect((await app.http.post('/api/memories/memory-000000000000/re-embed').set(owner.auth)).status).toBe(404);

      const del = await app.http.delete(`/api/memories/${m.id}`).set(owner.auth);
      expect(del.status).toBe(200);
      expect(del.body).toEqual({ ok: true, error: null, data: { message: 'Memory deleted successfully' } });
      expect((await app.http.get(`/api/memories/${m.id}`).set(owner.auth)).status).toBe(404);
      expect(await app.deps.prisma.memoryChunk.count({ where: { memoryId: m.id } })).toBe(0);
      const search = await app.http.post('/api/memories/search').set(owner.auth).send({ query: 'pizza cheese' });
      expect(search.body.data.results.map((r: { id: string }) => r.id)).not.toContain(m.id);
    });

    it('M1 lists with total, sortBy, server-side tags (any-of), limit/offset and search', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const ws = await defaultWorkspace(app, owner);
      const b = await addMemory(app, owner, ws, { title: 'Beta', content: 'guitar song melody', tags: ['music'] });
      const a = await addMemory(app, owner, ws, { title: 'Alpha', content: 'pizza recipe with cheese', tags: ['food', 'recipe'] });
      const c = await addMemory(app, owner, ws, { title: 'Gamma', content: 'rain and storm weather', tags: ['weather'] });
      await app.http.put(`/api/memories/${b.id}`).set(owner.auth).send({}); // b becomes most recently updated
      await drain();
      const ids = (res: { body: { data: { memories: { id: string }[] } } }) => res.body.data.memories.map((m) => m.id);
      const list = await app.http.get(`/api/workspaces/${ws}/memories`).set(owner.auth);
      expect(list.status).toBe(200);
      expect(list.body.data.total).toBe(3);
      expect(ids(list)).toEqual([b.id, c.id, a.id]);
      expect(list.body.data.memories[0]).toMatchObject({ embeddingStatus: 'ready', embedding: expect.any(Array) });
      expect(ids(await app.http.get(`/api/workspaces/${ws}/memories?sortBy=title`).set(owner.auth))).toEqual([a.id, b.id, c.id]);
      expect(ids(await app.http.get(`/api/workspaces/${ws}/memories?sortBy=relevance`).set(owner.auth))).toEqual([c.id, a.id, b.id]);
      const tagged = await app.http.get(`/api/workspaces/${ws}/memories?tags=music,weather`).set(owner.auth);
      expect(new Set(ids(tagged))).toEqual(new Set([b.id, c.id]));
      const page = await app.http.get(`/api/workspaces/${ws}/memories?sortBy=title&limit=1&offset=1`).set(owner.auth);
      expect(page.body.data).toMatchObject({ total: 3 });
      expect(ids(page)).toEqual([b.id]);
      const substring = await app.http.get(`/api/workspaces/${ws}/memories?search=CHEES&sortBy=recent`).set(owner.auth);
      expect(ids(substring)).toContain(a.id);
      const bad = await app.http.get(`/api/workspaces/${ws}/memories?limit=x`).set(owner.auth);
      expect(bad.status).toBe(400);
      expect(bad.body.error).toBe('limit: A valid integer is required.');
    });

    it('M7 hybrid search: similar memories rank above unrelated ones; scores in [0,1]; matchType', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const ws = await defaultWorkspace(app, owner);
      const cat = await addMemory(app, owner, ws, { title: 'Pets', content: 'the cat sat on the mat and purrs' });
      const rocket = await addMemory(app, owner, ws, { title: 'Space', content: 'rocket launch to mars orbit' });
      const pizza = await addMemory(app, owner, ws, { title: 'Food', content: 'pizza with tomato and cheese from the oven' });
      await drain();
      const res = await app.http.post('/api/memories/search').set(owner.auth).send({ query: 'a kitten sat on my mat', workspaceId: ws });
      expect(res.status).toBe(200);
      expect(res.body.data.mode).toBe('hybrid');
      const results = res.body.data.results as { id: string; score: number; matchType: string }[];
      expect(results[0]).toEqual({
        id: cat.id, title: 'Pets', content: 'the cat sat on the mat and purrs', snippet: 'the cat sat on the mat and purrs',
        score: expect.any(Number), tags: [], workspace_id: ws, created_at: expect.stringMatching(ISO), matchType: 'both',
      });
      for (const r of results) expect(r.score).toBeGreaterThanOrEqual(0), expect(r.score).toBeLessThanOrEqual(1);
      const rank = (id: string) => results.findIndex((r) => r.id === id);
      expect(rank(cat.id)).toBeLessThan(rank(rocket.id) === -1 ? Infinity : rank(rocket.id));
      const semantic = await app.http.post('/api/memories/search').set(owner.auth).send({ query: 'rockets orbits moon', top_k: 1 });
      expect(semantic.body.data.results).toHaveLength(1);
      expect(semantic.body.data.results[0].id).toBe(rocket.id);
      const tagged = await app.http.post('/api/memories/search').set(owner.auth).send({ query: 'cheese', tags: ['nope'] });
      expect(tagged.body.data.results).toEqual([]);
      void pizza;
    });

    it('M7 blank query → recent memories (score 0, mode recent); top_k validation', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const ws = await defaultWorkspace(app, owner);
      const first = await addMemory(app, owner, ws, { title: 'One', content: 'first' });
      const second = await addMemory(app, owner, ws, { title: 'Two', content: 'second' });
      for (const query of ['', '   ', undefined]) {
        const res = await app.http.post('/api/memories/search').set(owner.auth).send({ query, workspace_id: ws });
        expect(res.status).toBe(200);
        expect(res.body.data.mode).toBe('recent');
        expect(res.body.data.results.map((r: { id: string; score: number }) => [r.id, r.score])).toEqual([[second.id, 0], [first.id, 0]]);
      }
      for (const [top_k, message] of [
        [0, 'Ensure this value is greater than or equal to 1.'],
        [51, 'Ensure this value is less than or equal to 50.'],
        ['x', 'A valid integer is required.'],
      ] as const) {
        const res = await app.http.post('/api/memories/search').set(owner.auth).send({ query: 'x', top_k });
        expect(res.status).toBe(400);
        expect(res.body).toEqual({ ok: false, data: null, error: { top_k: [message] } });
      }
      const nul = await app.http.post('/api/memories/search').set(owner.auth).send({ query: 'a\u0000' });
      expect(nul.status).toBe(400);
      const odd = await app.http.post('/api/memories/search').set(owner.auth).send({ query: '!!! & | :* <-> "unterminated ((' });
      expect(odd.status).toBe(200);
      // A pasted text of 30,000 words: its tsquery exceeded PostgreSQL's stack depth (a 500).
      // The full-text side takes the first 64 distinct words, so 'second' still matches.
      const pasted = `second ${'ab\n'.repeat(30_000)}${Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ')}`;
      const long = await app.http.post('/api/memories/search').set(owner.auth).send({ query: pasted, workspace_id: ws });
      expect(long.status).toBe(200);
      expect(long.body.data.results.map((r: { id: string }) => r.id)).toContain(second.id);
    });

    it('M7 isolation: another user\'s memories never appear, with or without workspaceId', async () => {
      const app = ctx();
      const victim = await registerUser(app);
      const stranger = await registerUser(app);
      const vws = await defaultWorkspace(app, victim);
      const sws = await defaultWorkspace(app, stranger);
      const secret = await addMemory(app, victim, vws, { title: 'secret', content: 'the private rocket launch notes' });
      const own = await addMemory(app, stranger, sws, { title: 'mine', content: 'public rocket launch notes' });
      await drain();
      const all = await app.http.post('/api/memories/search').set(stranger.auth).send({ query: 'private rocket launch notes secret' });
      expect(all.body.data.results.map((r: { id: string }) => r.id)).toEqual([own.id]);
      const recent = await app.http.post('/api/memories/search').set(stranger.auth).send({ query: '' });
      expect(recent.body.data.results.map((r: { id: string }) => r.id)).toEqual([own.id]);
      const scoped = await app.http.post('/api/memories/search').set(stranger.auth).send({ query: 'rocket', workspaceId: vws });
      expect(scoped.status).toBe(403);
      expect(scoped.body.error).toBe('Access denied');
      const unknown = await app.http.post('/api/memories/search').set(stranger.auth).send({ query: 'rocket', workspaceId: 'workspace-000000000000' });
      expect(unknown.status).toBe(404);
      expect((await app.http.get(`/api/memories/${secret.id}`).set(stranger.auth)).status).toBe(403);
      expect((await app.http.get(`/api/workspaces/${vws}/memories?search=rocket`).set(stranger.auth)).status).toBe(403);
      // a member sees the workspace's memories too, across workspaces
      await addMember(app, vws, stranger.user.id, 'observer');
      const member = await app.http.post('/api/memories/search').set(stranger.auth).send({ query: 'rocket launch notes' });
      expect(new Set(member.body.data.results.map((r: { id: string }) => r.id))).toEqual(new Set([own.id, secret.id]));
      const write = await app.http.put(`/api/memories/${secret.id}`).set(stranger.auth).send({ title: 'x' });
      expect(write.status).toBe(403);
    });
};

describeEachStorage('memories', memoriesSuite, { ...env, VECTOR_BACKEND: 'memory' });
describeEachStorage('memories on pgvector', memoriesSuite, { ...env, VECTOR_BACKEND: 'pgvector' });
