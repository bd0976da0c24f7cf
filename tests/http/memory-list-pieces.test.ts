/**
 * The whole memory list sent from compressed pieces kept between polls
 * (services/memories/list-pieces.ts), gzip-coded or inflated: after every kind of write, made
 * through this instance, a second instance on the same database, or straight in the database,
 * both must equal the text built whole of the same state, for every sort and filter; and a
 * write landing between the list's two statements must not mix two states.
 */
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gzipOf } from '../../src/fast/gzip-pieces.js';
import { presentMemoryText } from '../../src/presenters/memory.js';
import { MemoryListPieces } from '../../src/services/memories/list-pieces.js';
import { describeEachStorage, type TestApp } from '../support/app.js';
import { registerUser, type Session } from '../support/factories.js';
import { secondInstance } from '../support/instances.js';
import { addMemory, defaultWorkspace, tinyModelEnv } from '../support/memories.js';

const MEMORIES = 300;

/** `n` memories straight in the database, tagged even or odd, every tenth with a quote and non-ASCII text; not embedded (failed), so the embedding sweeper leaves them alone. */
async function seed(app: TestApp, workspaceId: string, n: number) {
  await app.deps.db.query(
    `INSERT INTO memories (id, workspace_id, title, content, snippet, tags, metadata, embedding_status, created_at, updated_at)
     SELECT 'memory-seed' || lpad(g::text, 5, '0') || substr($1, 11, 6), $1, 'Seeded ' || g,
            'Content of memory ' || g || CASE WHEN g % 10 = 0 THEN ' with "quotes", naïve — 😀 and a \\ backslash' ELSE '' END,
            'Content of memory ' || g, ARRAY[CASE WHEN g % 2 = 0 THEN 'even' ELSE 'odd' END], jsonb_build_object('n', g), 'failed',
            now() - g * interval '1 minute', now() - g * interval '1 minute'
       FROM generate_series(1, $2::int) g`,
    [workspaceId, n],
  );
}

const LISTS = ['', '?sortBy=title', '?sortBy=created&tags=odd,kept'];

describeEachStorage(
  'memory list from compressed pieces',
  (ctx) => {
    let other: Awaited<ReturnType<typeof secondInstance>>;
    beforeAll(async () => {
      expect(await ctx().deps.embeddings.embedder.load()).toBe(true);
      other = await secondInstance(ctx());
    });
    afterAll(async () => {
      await other?.close();
    });

    /** Every list on both instances: gzip-coded, decoding to the plain answer; returns the default list. */
    async function same(label: string, session: Session, ws: string) {
      let first: { memories: { id: string; embedding: number[] | null }[]; total: number } | undefined;
      for (const [n, http] of [ctx().http, other.http].entries()) {
        // The second instance's cache is checked on the default list.
        for (const query of n === 0 ? LISTS : ['']) {
          const url = `/api/workspaces/${ws}/memories${query}`;
          const what = `${label}: ${url} on instance ${n}`;
          // A page (offset=0) is never sent from pieces: the text built whole, the reference.
          const whole = await http.get(`${url}${query ? '&' : '?'}offset=0`).set(session.auth).set('Accept-Encoding', 'identity');
          const plain = await http.get(url).set(session.auth).set('Accept-Encoding', 'identity');
          const coded = await http.get(url).set(session.auth).set('Accept-Encoding', 'gzip, deflate, br');
          for (const res of [whole, plain, coded]) expect(res.status, what).toBe(200);
          expect(plain.headers['content-encoding'], what).toBeUndefined();
          expect(Number(plain.headers['content-length']), what).toBe(Buffer.byteLength(plain.text));
          expect(coded.headers['content-encoding'], what).toBe('gzip');
          expect(coded.headers.vary, what).toMatch(/Accept-Encoding/);
          expect(coded.headers.etag, what).toBe(plain.headers.etag);
          expect(plain.text, what).toBe(whole.text);
          expect(coded.text, what).toBe(whole.text);
          if (query === '' && n === 0) first = plain.body.data;
        }
      }
      return first!;
    }

    it('equals the text built whole, gzip-coded and inflated, after every kind of write, on both instances', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const ws = await defaultWorkspace(app, owner);
      await seed(app, ws, MEMORIES);
      let list = await same('seeded', owner, ws);
      expect(list.total).toBe(MEMORIES);

      const created = await addMemory(app, owner, ws, { title: 'Cats', content: 'the cat sat on the mat', tags: ['kept'] });
      list = await same('created', owner, ws);
      expect(list.memories[0]!.id).toBe(created.id);
      await app.deps.embeddings.backlog.drain();
      list = await same('embedded', owner, ws);
      expect(list.memories.find((m) => m.id === created.id)!.embedding).toHaveLength(app.deps.embeddings.embedder.dimensions!);

      // An edit moves a memory from the middle of the list to its top.
      const middle = list.memories[150]!.id;
      expect((await other.http.put(`/api/memories/${middle}`).set(owner.auth).send({ content: 'edited on the second instance' })).status).toBe(200);
      list = await same('edited on the second instance', owner, ws);
      expect(list.memories[0]!.id).toBe(middle);
      expect((await app.http.put(`/api/memories/${list.memories[40]!.id}`).set(owner.auth).send({ tags: ['kept', 'odd'] })).status).toBe(200);
      await same('tags changed', owner, ws);
      expect((await other.http.delete(`/api/memories/${list.memories[77]!.id}`).set(owner.auth)).status).toBe(200);
      await same('deleted on the second instance', owner, ws);
      // Straight in the database: no application code sees these writes.
      await app.deps.db.query(`UPDATE memories SET title = 'Renamed in the database', metadata = '{"k": [1, 2]}' WHERE id = $1`, [list.memories[200]!.id]);
      await same('edited in the database', owner, ws);
      await app.deps.db.query(`DELETE FROM memories WHERE workspace_id = $1 AND title LIKE 'Seeded 1%'`, [ws]);
      list = await same('many deleted in the database', owner, ws);
      expect(list.total).toBeLessThan(MEMORIES - 100);
    });

    it('a write between the list and its pieces falls back to the whole text, never mixing two states', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const ws = await defaultWorkspace(app, owner);
      await seed(app, ws, 200);
      let raced = false;
      // The real database; the second statement (the missing pieces) first lets a write land.
      const db = {
        query: async <T>(sql: string, params?: unknown[]) => {
          if (!raced && sql.includes('memory_chunks')) {
            raced = true;
            await app.deps.db.query(`UPDATE memories SET title = 'Raced' WHERE workspace_id = $1 AND title = 'Seeded 7'`, [ws]);
          }
          return app.deps.db.query<T>(sql, params);
        },
      };
      const pieces = new MemoryListPieces(db, 2 ** 20, presentMemoryText);
      expect(await pieces.list(ws, { order: 'updated' })).toBeNull();
      expect(raced).toBe(true);
      // The next read sees one state, and caches it.
      const parts = await pieces.list(ws, { order: 'updated' });
      expect(parts).not.toBeNull();
      expect(pieces.usage().pieces).toBeGreaterThan(0);
      const body = JSON.parse(gunzipSync(Buffer.concat(gzipOf(parts!))).toString('utf8')) as { data: { memories: { title: string }[]; total: number } };
      expect(body.data.total).toBe(200);
      expect(body.data.memories.filter((m) => m.title === 'Raced')).toHaveLength(1);
    });

    it('a budget smaller than one list still answers whole lists', async () => {
      const app = ctx();
      const owner = await registerUser(app);
      const ws = await defaultWorkspace(app, owner);
      await seed(app, ws, 400);
      const pieces = new MemoryListPieces(app.deps.db, 4096, presentMemoryText);
      for (let round = 0; round < 2; round++) {
        const parts = await pieces.list(ws, { order: 'title' });
          expect((JSON.parse(gunzipSync(Buffer.concat(gzipOf(parts!))).toString('utf8')) as { data: { total: number } }).data.total).toBe(400);
        expect(pieces.usage().bytes).toBeLessThanOrEqual(4096 + 70_000);
      }
    });
  },
  tinyModelEnv(),
);
