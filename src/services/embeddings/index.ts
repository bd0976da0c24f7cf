/**
 * The embedding subsystem of one server instance: the worker-backed embedder and the backlog
 * sweeper, started and stopped together, and its health report (D4, D23).
 */
import type { Logger } from 'pino';
import type { Config } from '../../config/env.js';
import type { PrismaClient } from '../../db/client.js';
import type { ComponentReport } from '../health.js';
import { EmbeddingBacklog } from './backlog.js';
import { Embedder } from './embedder.js';
import { type BackgroundWork, tracker } from '../../lib/background.js';

export class EmbeddingService {
  readonly embedder: Embedder;
  readonly backlog: EmbeddingBacklog;

  constructor(config: Config['embeddings'], prisma: PrismaClient, logger: Logger, background: BackgroundWork) {
    this.embedder = new Embedder(config, logger);
    this.backlog = new EmbeddingBacklog(prisma, this.embedder, logger, config.pollIntervalMs, tracker(background));
  }

  /** Loads the model in the background and starts sweeping; never blocks startup. */
  start(): void {
    this.backlog.start();
  }

  async stop(): Promise<void> {
    await this.backlog.stop();
    await this.embedder.stop();
  }

  /** Called after a local write that left a memory pending. */
  nudge(): void {
    this.backlog.nudge();
  }

  async health(): Promise<ComponentReport> {
    const { state, reason, modelId, dimensions } = this.embedder;
    const status = state === 'stopped' ? 'unavailable' : state;
    return { status, model: modelId ?? null, dimensions, reason, backlog: await this.backlog.reportedSize() };
  }
}
