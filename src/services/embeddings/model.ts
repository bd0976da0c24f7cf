/**
 * The embedding model: a sentence-transformer (all-MiniLM-L6-v2 by default) run through
 * transformers.js from a local model directory. Used inside the embedding worker thread,
 * and by tests and benchmarks, so every caller runs exactly the same loader and pooling.
 */
import { env, pipeline } from '@xenova/transformers';
import ortModule from 'onnxruntime-node';
import { redactPaths } from '../../lib/redact-paths.js';
import { localModelFile, ModelUnavailableError } from './model-files.js';

const ort = ortModule as typeof import('onnxruntime-node');

export { ModelUnavailableError };

export interface ModelOptions {
  /** Directory holding `<modelName>/{config.json, tokenizer.json, onnx/…}`. */
  modelDir: string;
  /** Model name inside the directory, e.g. `Xenova/all-MiniLM-L6-v2`. */
  modelName: string;
  /** Allow fetching missing files from the Hugging Face hub (off by default: never at run time). */
  allowDownload: boolean;
  /** Tokens per chunk, including [CLS] and [SEP]. */
  chunkTokens: number;
  /** Tokens shared by consecutive chunks. */
  chunkOverlap: number;
  /** ONNX Runtime intra-op threads; leaving a core free keeps the HTTP event loop responsive. */
  threads?: number;
}

export interface TextChunk {
  text: string;
  vector: Float32Array;
}

export interface EmbeddingModel {
  modelId: string;
  dimensions: number;
  /** One unit-length vector per text (mean pooling over the attention mask, L2-normalised). */
  embed(texts: string[]): Promise<Float32Array[]>;
  /** Splits a text into overlapping, token-bounded pieces of the original text. */
  chunk(text: string): string[];
}

type Tensor = { data: ArrayLike<number | bigint>; dims: number[] };
type Tokenizer = {
  (texts: string[], options: { padding: boolean; truncation: boolean }): Record<string, Tensor>;
  encode(text: string, pair: null, options: { add_special_tokens: boolean }): number[];
  model_max_length: number;
};

let threadLimit: number | null = null;

/**
 * transformers.js 2.x creates its ONNX Runtime sessions without session options; this
 * wraps session creation once per thread to cap the runtime's thread pool.
 */
function limitRuntimeThreads(threads: number): void {
  if (threadLimit !== null) return;
  threadLimit = threads;
  const create = ort.InferenceSession.create.bind(ort.InferenceSession) as (model: unknown, options?: object) => Promise<unknown>;
  (ort.InferenceSession as { create: unknown }).create = (model: unknown, options: object = {}) =>
    create(model, { ...options, intraOpNumThreads: threadLimit!, interOpNumThreads: 1 });
}

export async function loadEmbeddingModel(options: ModelOptions): Promise<EmbeddingModel> {
  if (options.threads) limitRuntimeThreads(options.threads);
  env.allowLocalModels = true;
  env.localModelPath = options.modelDir.endsWith('/') ? options.modelDir : `${options.modelDir}/`;
  env.cacheDir = options.modelDir;
  env.allowRemoteModels = options.allowDownload;
  let quantized = true;
  if (!options.allowDownload) quantized = localModelFile(options).quantized;
  let extractor;
  try {
    extractor = await pipeline('feature-extraction', options.modelName, { quantized });
  } catch (error) {
    const cause = (error as Error).message;
    throw new ModelUnavailableError(`model ${options.modelName} could not be loaded: ${redactPaths(cause)}`, cause);
  }
  const tokenizer = extractor.tokenizer as unknown as Tokenizer;
  const model = extractor.model as unknown as (inputs: Record<string, Tensor>) => Promise<{ last_hidden_state: Tensor }>;
  const maxTokens = Math.max(8, Math.min(options.chunkTokens, tokenizer.model_max_length || options.chunkTokens));
  const overlap = Math.max(0, Math.min(options.chunkOverlap, Math.floor(maxTokens / 2)));

  async function embed(texts: string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const inputs = tokenizer(texts, { padding: true, truncation: true });
    const { last_hidden_state: hidden } = await model(inputs);
    return meanPoolNormalize(hidden, inputs.attention_mask!);
  }

  const probe = await embed(['probe']);
  return {
    modelId: options.modelName,
    dimensions: probe[0]!.length,
    embed,
    chunk: (text) => chunkByTokens(text, (word) => tokenizer.encode(word, null, { add_special_tokens: false }).length, maxTokens - 2, overlap),
  };
}

/** Mean over the unmasked positions, then L2 normalisation (what sentence-transformers does). */
export function meanPoolNormalize(hidden: Tensor, mask: Tensor): Float32Array[] {
  const [batch, seq, dims] = hidden.dims as [number, number, number];
  const data = hidden.data as Float32Array;
  const out: Float32Array[] = [];
  for (let b = 0; b < batch; b++) {
    const v = new Float32Array(dims);
    let count = 0;
    for (let s = 0; s < seq; s++) {
      if (Number(mask.data[b * seq + s]) === 0) continue;
      count++;
      const base = (b * seq + s) * dims;
      for (let d = 0; d < dims; d++) v[d]! += data[base + d]!;
    }
    let norm = 0;
    for (let d = 0; d < dims; d++) {
      v[d]! /= Math.max(count, 1);
      norm += v[d]! * v[d]!;
    }
    norm = Math.sqrt(norm) || 1;
    for (let d = 0; d < dims; d++) v[d]! /= norm;
    out.push(v);
  }
  return out;
}

/**
 * Greedy windows of whole words, each at most `maxTokens` wordpiece tokens, consecutive
 * windows sharing about `overlap` tokens. Chunks are slices of the original text (case,
 * punctuation and spacing kept). A single over-long word becomes its own chunk.
 */
export function chunkByTokens(text: string, countTokens: (word: string) => number, maxTokens: number, overlap: number): string[] {
  const words: { start: number; end: number; tokens: number }[] = [];
  const cache = new Map<string, number>();
  for (const m of text.matchAll(/\S+/g)) {
    const word = m[0];
    let tokens = cache.get(word);
    if (tokens === undefined) {
      tokens = Math.max(1, countTokens(word));
      if (cache.size < 50_000) cache.set(word, tokens);
    }
    words.push({ start: m.index, end: m.index + word.length, tokens });
  }
  if (words.length === 0) return [];
  const chunks: string[] = [];
  let start = 0;
  for (;;) {
    let end = start;
    let used = 0;
    while (end < words.length && (end === start || used + words[end]!.tokens <= maxTokens)) used += words[end++]!.tokens;
    chunks.push(text.slice(words[start]!.start, words[end - 1]!.end));
    if (end >= words.length) return chunks;
    // Step back from the window's end until about `overlap` tokens are shared.
    let next = end;
    let shared = 0;
    while (next - 1 > start && shared + words[next - 1]!.tokens <= overlap) shared += words[--next]!.tokens;
    start = next;
  }
}
