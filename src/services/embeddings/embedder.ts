/**
 * Main-thread handle on the embedding worker. Loading happens once, in the worker, never on
 * a request path; when the model files are absent the embedder reports `unavailable` with
 * the reason, and `load()` can be retried later (the backlog sweeper does, on every tick).
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Config } from '../../config/env.js';
import type { ChunkVector, FromWorker, ToWorker } from './protocol.js';

export type EmbedderState = 'stopped' | 'loading' | 'ready' | 'unavailable';

export class Embedder {
  state: EmbedderState = 'stopped';
  reason: string | null = 'not started';
  modelId: string | null = null;
  dimensions: number | null = null;

  private worker: Worker | null = null;
  private loading: Promise<boolean> | null = null;
  private settleLoad: ((ok: boolean) => void) | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(items: ChunkVector[][]): void; reject(error: Error): void }>();

  constructor(
    private readonly config: Config['embeddings'],
    private readonly logger: Logger,
  ) {}

  get ready(): boolean {
    return this.state === 'ready';
  }

  /** Loads the model in the worker (spawning it when needed); resolves whether it is ready. */
  load(): Promise<boolean> {
    if (this.state === 'ready') return Promise.resolve(true);
    if (this.loading) return this.loading;
    this.state = 'loading';
    this.loading = new Promise<boolean>((resolve) => {
      this.settleLoad = resolve;
      const { modelDir, model, allowDownload, chunkTokens, chunkOverlap } = this.config;
      this.post({ type: 'load', options: { modelDir, modelName: model, allowDownload, chunkTokens, chunkOverlap } });
    }).finally(() => {
      this.loading = null;
      this.settleLoad = null;
    });
    return this.loading;
  }

  /** One vector for a search query, or null when the model is not ready or fails. */
  async embedQuery(text: string): Promise<Float32Array | null> {
    if (!this.ready) return null;
    try {
      const [item] = await this.request([text], false);
      return item?.[0]?.vector ?? null;
    } catch (error) {
      this.logger.warn({ err: error }, 'query embedding failed');
      return null;
    }
  }

  /** Chunks and embeds each document; throws when the model is not ready. */
  embedDocuments(texts: string[]): Promise<ChunkVector[][]> {
    if (!this.ready) return Promise.reject(new Error(this.reason ?? 'embedding model not ready'));
    return this.request(texts, true);
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    this.state = 'stopped';
    this.reason = 'stopped';
    if (worker) await worker.terminate();
  }

  private request(texts: string[], chunk: boolean): Promise<ChunkVector[][]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post({ type: 'embed', id, texts, chunk, batchSize: this.config.batchSize });
    });
  }

  private post(message: ToWorker): void {
    this.spawn().postMessage(message);
  }

  private spawn(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url));
    worker.unref();
    worker.on('message', (message: FromWorker) => this.onMessage(message));
    worker.on('error', (error) => this.logger.error({ err: error }, 'embedding worker error'));
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.fail(`embedding worker exited with code ${code}`);
    });
    this.worker = worker;
    return worker;
  }

  private onMessage(message: FromWorker): void {
    switch (message.type) {
      case 'loaded':
        this.state = 'ready';
        this.reason = null;
        this.modelId = message.modelId;
        this.dimensions = message.dimensions;
        this.logger.info({ model: message.modelId, dimensions: message.dimensions }, 'embedding model ready');
        this.settleLoad?.(true);
        return;
      case 'unavailable':
        this.state = 'unavailable';
        this.reason = message.reason;
        this.logger.warn({ reason: message.reason }, 'embedding model unavailable; search falls back to lexical');
        this.settleLoad?.(false);
        return;
      case 'embedded':
      case 'failed': {
        const waiter = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.type === 'embedded') waiter?.resolve(message.items);
        else waiter?.reject(new Error(message.message));
      }
    }
  }

  private fail(reason: string): void {
    this.state = 'unavailable';
    this.reason = reason;
    for (const waiter of this.pending.values()) waiter.reject(new Error(reason));
    this.pending.clear();
    this.settleLoad?.(false);
  }
}
