import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Embedder } from '../../src/services/embeddings/embedder.js';
import { tempDir } from '../support/temp-dirs.js';
import { writeTinyModel } from '../support/tiny-model.js';

const config = (modelDir: string, model = 'Xenova/all-MiniLM-L6-v2') => ({ modelDir, model, allowDownload: false, batchSize: 8, chunkTokens: 128, chunkOverlap: 16, pollIntervalMs: 1000, threads: 1 });
const workerStarted = () => (globalThis as Record<symbol, unknown>)[Symbol.for('chimera.embeddingWorker')] !== undefined;

describe('embedder without a model', () => {
  it('reports the missing files without starting the embedding worker (no transformers.js, no ONNX Runtime in memory)', async () => {
    const embedder = new Embedder(config(tempDir('chimera-no-model-')), pino({ level: 'silent' }));
    expect(await embedder.load()).toBe(false);
    expect(embedder.state).toBe('unavailable');
    expect(embedder.reason).toMatch(/model files of Xenova\/all-MiniLM-L6-v2 not found in the model directory \(missing config\.json.*onnx\/model_quantized\.onnx\)/);
    expect(embedder.reason).not.toContain('chimera-no-model-');
    expect(workerStarted()).toBe(false);
  });

  it('starts the worker once the files are there', async () => {
    const dir = tempDir('chimera-model-');
    const embedder = new Embedder(config(dir, writeTinyModel(dir)), pino({ level: 'silent' }));
    expect(await embedder.load()).toBe(true);
    expect(workerStarted()).toBe(true);
    await embedder.stop();
  });
});
