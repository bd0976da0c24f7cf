/**
 * The durable extraction queue, swept like the embedding backlog (services/embeddings/
 * backlog.ts, both services/sweeper.ts): every `pending` row of `conversation_extractions` is work, whoever wrote it
 * (a close with autoExtract, POST /conversations/:id/extract, another instance). The sweeper
 * polls on an interval and is nudged after local requests; several instances may sweep at
 * once, each claiming different rows. A row claimed by a process that died is claimed again
 * once its lease has passed, so a restart loses no extraction.
 */
import { claimExtraction, countQueuedExtractions, finishExtraction, releaseExtraction } from '../../data/conversation-extractions.js';
import { Sweeper } from '../sweeper.js';
import { type ExtractionDeps, runExtraction } from './job.js';

export class ExtractionQueue extends Sweeper {
  constructor(
    private readonly deps: ExtractionDeps,
    /** Told of memories a run wrote (the embedding backlog). */
    private readonly wrote: () => void,
    pollIntervalMs: number,
    track: (p: Promise<unknown>) => void,
  ) {
    super(deps.logger, pollIntervalMs, track, 'extraction sweep failed');
  }

  /** A claim outlives every call a run makes (two questions, each retried once) with room to spare. */
  private get leaseMs(): number {
    return Math.max(300_000, 5 * this.deps.config.llm.timeoutMs);
  }

  size(): Promise<number> {
    return countQueuedExtractions(this.deps.db.prisma);
  }

  /** Claims and runs one extraction; returns whether there may be more. */
  protected async sweepOnce(): Promise<boolean> {
    const prisma = this.deps.db.prisma;
    const job = await claimExtraction(prisma, this.leaseMs);
    if (!job) return false;
    try {
      const outcome = await runExtraction(this.deps, job);
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
}
