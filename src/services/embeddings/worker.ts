/**
 * The embedding worker thread: loads the model once, then answers embed requests, so
 * tokenisation, inference and pooling never block the HTTP event loop.
 */
import { parentPort } from 'node:worker_threads';
import { type EmbeddingModel, loadEmbeddingModel } from './model.js';
import type { ChunkVector, FromWorker, ToWorker } from './protocol.js';

const port = parentPort!;
let model: EmbeddingModel | null = null;

const send = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

/** Chunks every text (or keeps it whole), embeds all pieces in batches, regroups per text. */
async function embedAll(texts: string[], chunk: boolean, batchSize: number): Promise<ChunkVector[][]> {
  const pieces = texts.map((t) => (chunk ? model!.chunk(t) : [t]));
  const flat = pieces.flat();
  const vectors: Float32Array[] = [];
  for (let i = 0; i < flat.length; i += batchSize) vectors.push(...(await model!.embed(flat.slice(i, i + batchSize))));
  let next = 0;
  return pieces.map((list) => list.map((text) => ({ text, vector: vectors[next++]! })));
}

port.on('message', async (message: ToWorker) => {
  if (message.type === 'load') {
    try {
      model = await loadEmbeddingModel(message.options);
      send({ type: 'loaded', modelId: model.modelId, dimensions: model.dimensions });
    } catch (error) {
      model = null;
      send({ type: 'unavailable', reason: (error as Error).message });
    }
    return;
  }
  if (!model) return send({ type: 'failed', id: message.id, message: 'model not loaded' });
  try {
    const items = await embedAll(message.texts, message.chunk, message.batchSize);
    send({ type: 'embedded', id: message.id, items }, items.flat().map((c) => c.vector.buffer as ArrayBuffer));
  } catch (error) {
    send({ type: 'failed', id: message.id, message: (error as Error).message });
  }
});
