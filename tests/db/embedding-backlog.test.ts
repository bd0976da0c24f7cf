/**
 * The embedding backlog's claims (src/data/memories.ts) on both storages: a result is stored
 * only for a memory whose text is still the one embedded and that is still in the backlog,
 * and storing it is not an edit (updated_at stays).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backlogBatch, claimEmbedded, countBacklog, markEmbeddingFailed } from '../../src/data/memories.js';
import { newId } from '../../src/lib/ids.js';
import { createTestDatabase, storages, type TestDatabase } from '../support/db.js';

for (const storage of storages()) {
  describe(`embedding backlog claims on ${storage}`, () => {
    let t: TestDatabase;
    let workspaceId: string;
    beforeAll(async () => {
      t = await createTestDatabase(storage);
      const user = await t.db.prisma.user.create({ data: { email: `backlog-${storage}@test.local`, name: 'B', passwordHash: 'x' } });
      workspaceId = (await t.db.prisma.workspace.create({ data: { id: newId('workspace'), name: 'B', ownerId: user.id } })).id;
    });
    afterAll(() => t?.drop());

    const add = (title: string, fields: { embeddingStatus?: string; embeddingModel?: string } = {}) =>
      t.db.prisma.memory.create({ data: { id: newId('memory'), workspaceId, title, content: `${title} text`, ...fields } });
    const row = (id: string) => t.db.prisma.memory.findUniqueOrThrow({ where: { id } });

    it('claims only unchanged memories still in the backlog, without touching updated_at', async () => {
      const kept = await add('kept');
      const edited = await add('edited');
      const done = await add('done', { embeddingStatus: 'ready', embeddingModel: 'model-b' });
      const stale = await add('stale', { embeddingStatus: 'ready', embeddingModel: 'model-a' });
      expect(await countBacklog(t.db.prisma, 'model-b')).toBe(3);
      const batch = await backlogBatch(t.db.prisma, 'model-b', 10);
      expect(batch.map((m) => m.id).sort()).toEqual([kept.id, edited.id, stale.id].sort());

      await t.db.prisma.memory.update({ where: { id: edited.id }, data: { content: 'new text' } });
      const claimed = await claimEmbedded(t.db.prisma, 'model-b', [...batch, { ...done }]);
      expect(claimed.sort()).toEqual([kept.id, stale.id].sort());
      const after = await row(kept.id);
      expect(after).toMatchObject({ embeddingStatus: 'ready', embeddingModel: 'model-b', embeddingError: null });
      expect(after.updatedAt).toEqual(kept.updatedAt);
      expect(after.embeddedAt).not.toBeNull();
      expect((await row(edited.id)).embeddingStatus).toBe('pending');
      expect(await countBacklog(t.db.prisma, 'model-b')).toBe(1);
    });

    it('marks a memory failed only while its text is unchanged and it is still in the backlog', async () => {
      const failing = await add('failing');
      const edited = await add('edited later');
      const finished = await add('finished', { embeddingStatus: 'ready', embeddingModel: 'model-b' });
      await t.db.prisma.memory.update({ where: { id: edited.id }, data: { title: 'retitled' } });

      for (const m of [failing, edited, finished]) await markEmbeddingFailed(t.db.prisma, m, 'model-b', 'too long');
      expect(await row(failing.id)).toMatchObject({ embeddingStatus: 'failed', embeddingError: 'too long', updatedAt: failing.updatedAt });
      expect((await row(edited.id)).embeddingStatus).toBe('pending');
      expect((await row(finished.id)).embeddingStatus).toBe('ready');
    });
  });
}
