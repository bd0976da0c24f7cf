/** Messages between the embedding worker thread and the main thread. */
import type { ModelOptions } from './model.js';

export type ToWorker =
  | { type: 'load'; options: ModelOptions }
  | { type: 'embed'; id: number; texts: string[]; chunk: boolean; batchSize: number };

export interface ChunkVector {
  text: string;
  vector: Float32Array;
}

export type FromWorker =
  | { type: 'loaded'; modelId: string; dimensions: number }
  | { type: 'unavailable'; reason: string }
  | { type: 'embedded'; id: number; items: ChunkVector[][] }
  | { type: 'failed'; id: number; message: string };
