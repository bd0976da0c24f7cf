/**
 * The durable extraction queue, swept like the embedding backlog (services/embeddings/
 * backlog.ts): every `pending` row of `conversation_extractions` is work, whoever wrote it
 * (a close with autoExtract, POST /conversations/:id/extract, another instance). The sweeper
 * polls on an interval and is nudged after local requests; several instances may sweep at
 * once, each claiming different rows. A row claimed by a process that died is claimed again
 * once its lease has passed, so a restart loses no extraction.
 */
import type { Logger } from 'pino';
import { claimExtraction, countQueuedExtractions, type ExtractionRow, finishExtraction, releaseExtraction } from '../../data/conversation-extractions.js';
import { type ExtractionDeps, runExtraction } from './job.js';

/** Runs of one extraction that end in an unexpected error before it falls back for good. */
const MAX_ATTEMPTS = 3;

export class ExtractionQueue {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;

  constructor(
    private readonly deps: ExtractionDeps & { logger: Logger },
    /** Told of memories a run wrote (the embedding backlog). */
    private readonly wrote: () => void,
    private readonly pollIntervalMs: number,
    private readonly track: (p: Promise<unknown>) => void,
  ) {}

  /** A claim outlives every call a run makes (two questions, each retried once) with room to spare. */
  private get leaseMs(): number {
    return Math.max(300_000, 5 * this.deps.config.llm.timeoutMs);
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.nudge(), this.pollIntervalMs);
    this.timer.unref();
    this.nudge();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Asks for a sweep soon (after a local request); sweeps never overlap. */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.sweepUntilEmpty()
      .catch((error) => this.deps.logger.warn({ err: error }, 'extraction sweep failed'))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.nudge();
        }
      });
    this.track(this.running);
  }

  /** Resolves once a sweep has found nothing left to do (tests, benchmarks). */
  async drain(): Promise<void> {
    for (;;) {
      await this.running;
      if (!(await this.runOne())) return;
    }
  }

  size(): Promise<number> {
    return countQueuedExtractions(this.deps.db.prisma);
  }

  private async sweepUntilEmpty(): Promise<void> {
    while (!this.stopped && (await this.runOne()));
  }

  /** Claims and runs one extraction; returns whether there may be more. */
  private async runOne(): Promise<boolean> {
    const prisma = this.deps.db.prisma;
    const job = await claimExtraction(prisma, this.leaseMs);
    if (!job) return false;
    try {
      const outcome = await this.run(job);
      await finishExtraction(prisma, job, outcome);
      if (outcome.memoryIds.length) this.wrote();
    } catch (error) {
      this.deps.logger.warn({ err: error, conversationId: job.conversationId }, 'extraction failed');
      await releaseExtraction(prisma, job.conversationId);
      // Leave the row for a later sweep rather than retrying it at once.
      return false;
    }
    return true;
  }

  private async run(job: ExtractionRow) {
    if (job.attempts > MAX_ATTEMPTS) {
      return { status: 'fallback' as const, error: `The extraction failed ${MAX_ATTEMPTS} times`, result: {}, memoryIds: [] };
    }
    return runExtraction(this.deps, job);
  }
}
