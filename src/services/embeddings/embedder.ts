/**
 * Main-thread handle on the embedding worker. Loading happens once, in the worker, never on
 * a request path; when the model files are absent the embedder reports `unavailable` with
 * the reason, and `load()` can be retried later (the backlog sweeper does, on every tick).
 *
 * One worker thread serves the whole process: onnxruntime-node's native addon can be
 * initialised only once per process, so a second worker (or a restarted one) could not load it.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Config } from '../../config/env.js';
import type { ModelOptions } from './model.js';
import { redactPaths } from '../../lib/redact-paths.js';
import { localModelFile, ModelUnavailableError } from './model-files.js';
import { type ChunkVector, type FromWorker, modelKey, type ToWorker } from './protocol.js';

export type EmbedderState = 'stopped' | 'loading' | 'ready' | 'unavailable';

interface SharedWorker {
  worker: Worker;
  nextId: number;
  listeners: Set<(message: FromWorker) => void>;
  onExit: Set<(reason: string) => void>;
}

const SHARED = Symbol.for('chimera.embeddingWorker');
type Holder = { [SHARED]?: SharedWorker };

/** The process-wide worker (kept on globalThis so re-imported modules share it too). */
function sharedWorker(): SharedWorker {
  const holder = globalThis as Holder;
  if (holder[SHARED]) return holder[SHARED];
  const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url));
  worker.unref();
  const shared: SharedWorker = { worker, nextId: 1, listeners: new Set(), onExit: new Set() };
  worker.on('message', (message: FromWorker) => shared.listeners.forEach((l) => l(message)));
  worker.on('error', () => {});
  worker.on('exit', (code) => {
    if (holder[SHARED] === shared) delete holder[SHARED];
    shared.onExit.forEach((l) => l(`embedding worker exited with code ${code}`));
  });
  holder[SHARED] = shared;
  return shared;
}

type Waiter = { resolve(message: FromWorker): void; reject(error: Error): void };

export class Embedder {
  state: EmbedderState = 'stopped';
  reason: string | null = 'not started';
  modelId: string | null = null;
  dimensions: number | null = null;

  private readonly options: ModelOptions;
  private readonly pending = new Map<number, Waiter>();
  private loading: Promise<boolean> | null = null;
  private attached: SharedWorker | null = null;
  private readonly onMessage = (message: FromWorker) => {
    const waiter = this.pending.get(message.id);
    if (!waiter) return;
    this.pending.delete(message.id);
    if (message.type === 'failed') waiter.reject(new Error(message.message));
    else waiter.resolve(message);
  };
  private readonly onExit = (reason: string) => {
    this.attached = null;
    this.state = 'unavailable';
    this.reason = reason;
    this.logger.error({ reason }, 'embedding worker stopped');
    for (const waiter of this.pending.values()) waiter.reject(new Error(reason));
    this.pending.clear();
  };

  constructor(
    private readonly config: Config['embeddings'],
    private readonly logger: Logger,
  ) {
    const { modelDir, model, allowDownload, chunkTokens, chunkOverlap, threads } = config;
    this.options = { modelDir, modelName: model, allowDownload, chunkTokens, chunkOverlap, threads };
  }

  get ready(): boolean {
    return this.state === 'ready';
  }

  /** Loads the model in the worker; resolves whether it is ready. Concurrent calls share one load. */
  load(): Promise<boolean> {
    if (this.state === 'ready') return Promise.resolve(true);
    this.loading ??= this.modelFilesMissing()
      .then((missing) => missing ?? this.request({ type: 'load', options: this.options }))
      .then((message) => {
        if (message.type === 'loaded') {
          this.state = 'ready';
          this.reason = null;
          this.modelId = message.modelId;
          this.dimensions = message.dimensions;
          this.logger.info({ model: message.modelId, dimensions: message.dimensions }, 'embedding model ready');
          return true;
        }
        const reason = message.type === 'unavailable' ? message.reason : 'unexpected answer from the embedding worker';
        const detail = message.type === 'unavailable' ? message.detail : null;
        if (this.reason !== reason) this.logger.warn({ reason, detail }, 'embedding model unavailable; search falls back to lexical');
        this.state = 'unavailable';
        this.reason = reason;
        return false;
      })
      .catch((error: Error) => {
        this.state = 'unavailable';
        this.reason = error.message;
        return false;
      })
      .finally(() => {
        this.loading = null;
      });
    if (this.state !== 'unavailable') this.state = 'loading';
    return this.loading;
  }

  /**
   * The worker's answer when the model files are not there, found without starting the
   * worker: a server with no model never loads transformers.js and ONNX Runtime (about 40 MB
   * of idle memory). With downloads allowed only the worker can tell.
   */
  private async modelFilesMissing(): Promise<FromWorker | null> {
    if (this.options.allowDownload) return null;
    try {
      localModelFile(this.options);
      return null;
    } catch (error) {
      if (!(error instanceof ModelUnavailableError)) throw error;
      return { type: 'unavailable', id: 0, reason: redactPaths(error.message), detail: error.detail };
    }
  }

  /** One vector for a search query, or null when the model is not ready or fails. */
  async embedQuery(text: string): Promise<Float32Array | null> {
    if (!this.ready) return null;
    try {
      const [item] = await this.embed([text], false);
      return item?.[0]?.vector ?? null;
    } catch (error) {
      this.logger.warn({ err: error }, 'query embedding failed');
      return null;
    }
  }

  /** Chunks and embeds each document; throws when the model is not ready. */
  embedDocuments(texts: string[]): Promise<ChunkVector[][]> {
    if (!this.ready) return Promise.reject(new Error(this.reason ?? 'embedding model not ready'));
    return this.embed(texts, true);
  }

  /** Detaches from the shared worker (which lives as long as the process). */
  async stop(): Promise<void> {
    this.detach();
    this.state = 'stopped';
    this.reason = 'stopped';
    for (const waiter of this.pending.values()) waiter.reject(new Error('embedder stopped'));
    this.pending.clear();
  }

  private async embed(texts: string[], chunk: boolean): Promise<ChunkVector[][]> {
    const message = await this.request({ type: 'embed', modelKey: modelKey(this.options), texts, chunk, batchSize: this.config.batchSize });
    if (message.type !== 'embedded') throw new Error('unexpected answer from the embedding worker');
    return message.items;
  }

  private request(message: DistributiveOmit<ToWorker, 'id'>): Promise<FromWorker> {
    const shared = this.attach();
    const id = shared.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      shared.worker.postMessage({ ...message, id } as ToWorker);
    });
  }

  private attach(): SharedWorker {
    if (this.attached) return this.attached;
    const shared = sharedWorker();
    shared.listeners.add(this.onMessage);
    shared.onExit.add(this.onExit);
    this.attached = shared;
    return shared;
  }

  private detach(): void {
    this.attached?.listeners.delete(this.onMessage);
    this.attached?.onExit.delete(this.onExit);
    this.attached = null;
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
