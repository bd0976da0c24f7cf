/**
 * The embedding lifecycle without mocks: no model → lexical search and a health report
 * that says why; the model appears → the backlog (including rows other code inserted
 * directly) drains; a new model id → everything is re-embedded.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddingService } from '../../src/services/embeddings/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { storages } from '../support/db.js';
import { registerUser } from '../support/factories.js';
import { addMemory, defaultWorkspace } from '../support/memories.js';
import { tempDir } from '../support/temp-dirs.js';
import { TINY_MODEL_NAME, writeTinyModel } from '../support/tiny-model.js';

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

// The worker caches loaded models for the whole process, so each run gets its own model directory.
for (const storage of storages()) {
  describe(`embedding lifecycle [${storage}]`, () => {
    let current: TestApp;
    const ctx = () => current;
    beforeAll(async () => {
      const env = { EMBEDDING_MODEL_DIR: tempDir('chimera-empty-model-'), EMBEDDING_MODEL: TINY_MODEL_NAME, EMBEDDING_POLL_INTERVAL: '200ms', SEARCH_MIN_SIMILARITY: '0' };
      current = await startTestApp(storage, env);
    });
    afterAll(() => current?.close());

    it('the public health report shows no filesystem path, whatever a component says', async () => {
      const app = ctx();
      const dir = join(tmpdir(), 'chimera-secret-place');
      app.deps.health.register('probe', () => {
        throw new Error(`ENOENT: no such file or directory, open '${dir}/state.json'`);
      });
      const r = await app.http.get('/api/health');
      expect(r.body.data.probe).toEqual({ status: 'error', reason: "ENOENT: no such file or directory, open '<path>'" });
      expect(r.text).not.toContain(tmpdir());
    });

    it('runs lexical-only without a model, then drains the backlog once the model appears', async () => {
      const app = ctx();
      const modelDir = app.deps.config.embeddings.modelDir;
      app.deps.embeddings.start();
      const health = await until(() => app.http.get('/api/health').then((r) => r.body.data.embeddings), (e) => e.status === 'unavailable' && e.reason !== 'not started');
      expect(health).toMatchObject({ status: 'unavailable', model: null, backlog: 0 });
      // The public report says what is missing, not where on disk; the log says where.
      expect(health.reason).toBe(
        `model files of ${TINY_MODEL_NAME} not found in the model directory (missing config.json, tokenizer.json, tokenizer_config.json, onnx/model_quantized.onnx); run \`npm run model:download\` or set EMBEDDING_MODEL_DIR`,
      );
      expect(JSON.stringify(health)).not.toContain(tmpdir());
      expect(app.logs.join('')).toContain(join(modelDir, TINY_MODEL_NAME));

      const owner = await registerUser(app);
      const ws = await defaultWorkspace(app, owner);
      const viaApi = await addMemory(app, owner, ws, { title: 'Pets', content: 'the cat sat on the mat' });
      // Rows written by other code paths (conversation close, imports) go straight to the table.
      await app.deps.prisma.memory.create({ data: { id: 'memory-direct000001', workspaceId: ws, title: 'Space', content: 'rocket launch to mars', embeddingStatus: 'pending' } });

      const lexical = await app.http.post('/api/memories/search').set(owner.auth).send({ query: 'cat on a mat' });
      expect(lexical.body.data.mode).toBe('lexical');
      expect(lexical.body.data.results.map((r: { id: string; matchType: string }) => [r.id, r.matchType])).toEqual([[viaApi.id, 'lexical']]);
      const pending = await app.http.get('/api/health');
      expect(pending.body.data.embeddings).toMatchObject({ status: 'unavailable', backlog: 2 });

      writeTinyModel(modelDir);
      // The sweeper retries loading on its poll interval and then embeds both rows.
      const statuses = await until(
        () => app.deps.prisma.memory.findMany({ where: { workspaceId: ws }, select: { embeddingStatus: true } }),
        (rows) => rows.every((r) => r.embeddingStatus === 'ready'),
      );
      expect(statuses.map((r) => r.embeddingStatus)).toEqual(['ready', 'ready']);
      const ready = await app.http.get('/api/health');
      expect(ready.body.data.embeddings).toEqual({ status: 'ready', model: TINY_MODEL_NAME, dimensions: 384, reason: null, backlog: 0 });
      const hybrid = await app.http.post('/api/memories/search').set(owner.auth).send({ query: 'rockets to mars' });
      expect(hybrid.body.data.mode).toBe('hybrid');
      expect(hybrid.body.data.results[0].id).toBe('memory-direct000001');

      // A different model id makes every stored vector stale: a second instance configured
      // with it re-embeds them all (and ignores the old vectors meanwhile).
      writeTinyModel(modelDir, { name: 'test/tiny-bert-v2', seed: 7 });
      const other = new EmbeddingService({ ...app.deps.config.embeddings, model: 'test/tiny-bert-v2' }, app.deps.prisma, app.deps.logger, app.deps.background);
      try {
        expect(await other.embedder.load()).toBe(true);
        expect(await other.backlog.size()).toBe(2);
        await other.backlog.drain();
        const models = await app.deps.prisma.memoryChunk.findMany({ where: { workspaceId: ws }, select: { model: true } });
        expect(models.map((m) => m.model)).toEqual(['test/tiny-bert-v2', 'test/tiny-bert-v2']);
        expect(await other.backlog.size()).toBe(0);
      } finally {
        await other.stop();
      }
    });
  });
}
