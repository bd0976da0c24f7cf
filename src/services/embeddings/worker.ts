/**
 * The embedding worker thread: loads each model once, then answers embed requests, so
 * tokenisation, inference and pooling never block the HTTP event loop.
 */
import { parentPort } from 'node:worker_threads';
import { redactPaths } from '../../lib/redact-paths.js';
import { type EmbeddingModel, loadEmbeddingModel, ModelUnavailableError } from './model.js';
import { type ChunkVector, type FromWorker, modelKey, type ToWorker } from './protocol.js';

const port = parentPort!;
/** Loaded models by key; a failed load is forgotten so it can be retried when the files appear. */
const models = new Map<string, Promise<EmbeddingModel>>();

const send = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

/** Chunks every text (or keeps it whole), embeds all pieces in batches, regroups per text. */
async function embedAll(model: EmbeddingModel, texts: string[], chunk: boolean, batchSize: number): Promise<ChunkVector[][]> {
  const pieces = texts.map((t) => (chunk ? model.chunk(t) : [t]));
  const flat = pieces.flat();
  const vectors: Float32Array[] = [];
  for (let i = 0; i < flat.length; i += batchSize) vectors.push(...(await model.embed(flat.slice(i, i + batchSize))));
  let next = 0;
  return pieces.map((list) => list.map((text) => ({ text, vector: vectors[next++]! })));
}

port.on('message', async (message: ToWorker) => {
  if (message.type === 'load') {
    const key = modelKey(message.options);
    let loading = models.get(key);
    if (!loading) {
      loading = loadEmbeddingModel(message.options);
      models.set(key, loading);
      loading.catch(() => models.delete(key));
    }
    try {
      const model = await loading;
      send({ type: 'loaded', id: message.id, modelId: model.modelId, dimensions: model.dimensions });
    } catch (error) {
      const detail = error instanceof ModelUnavailableError ? error.detail : null;
      send({ type: 'unavailable', id: message.id, reason: redactPaths((error as Error).message), detail: detail ?? (error as Error).message });
    }
    return;
  }
  const model = await models.get(message.modelKey)?.catch(() => null);
  if (!model) return send({ type: 'failed', id: message.id, message: 'model not loaded' });
  try {
    const items = await embedAll(model, message.texts, message.chunk, message.batchSize);
    send({ type: 'embedded', id: message.id, items }, items.flat().map((c) => c.vector.buffer as ArrayBuffer));
  } catch (error) {
    send({ type: 'failed', id: message.id, message: (error as Error).message });
  }
});
