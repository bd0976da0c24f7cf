/** Messages between the embedding worker thread and the main thread. Every request has an id. */
import type { ModelOptions } from './model.js';

export type ToWorker =
  | { type: 'load'; id: number; options: ModelOptions }
  | { type: 'embed'; id: number; modelKey: string; texts: string[]; chunk: boolean; batchSize: number };

export interface ChunkVector {
  text: string;
  vector: Float32Array;
}

export type FromWorker =
  | { type: 'loaded'; id: number; modelId: string; dimensions: number }
  | { type: 'unavailable'; id: number; /** shown by the health report: no paths */ reason: string; /** for the log only */ detail: string | null }
  | { type: 'embedded'; id: number; items: ChunkVector[][] }
  | { type: 'failed'; id: number; message: string };

/** Models are cached in the worker under this key. */
export const modelKey = (o: ModelOptions) => JSON.stringify([o.modelDir, o.modelName, o.allowDownload, o.chunkTokens, o.chunkOverlap]);
