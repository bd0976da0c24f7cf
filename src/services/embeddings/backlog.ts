/**
 * The durable embedding backlog. Every memory row whose status is `pending` (or that is
 * `ready` under another model id) is work, whoever wrote it: this server's routes, the
 * conversation-close summary, imports, or another instance. The sweeper polls on an
 * interval and is nudged after local writes; several instances may sweep at once, because
 * a result is written only if the row is unchanged since it was read.
 */
import type { Logger } from 'pino';
import { bumpIndexStamp } from '../../data/index-stamps.js';
import { type BacklogMemory, backlogBatch, claimEmbedded, countBacklog, markEmbeddingFailed } from '../../data/memories.js';
import { replaceChunks } from '../../data/memory-chunks.js';
import type { PrismaClient } from '../../db/client.js';
import { RecentValue } from '../../lib/recent-value.js';
import { vectorToBytes } from '../../lib/vectors.js';
import { Sweeper } from '../sweeper.js';
import type { Embedder } from './embedder.js';
import type { ChunkVector } from './protocol.js';

/** Memories embedded per worker round trip. */
const CLAIM_SIZE = 32;

/**
 * How old the backlog size in the health report may be. Health is polled often (load balancers,
 * the reliability suite every 20 ms), and on PGlite every statement runs on the request loop:
 * the count cost more than the rest of the report. It is counted at most once a second, in the
 * background while the last count is under 10 s old, and anew after any local change.
 */
const REPORTED_SIZE_FRESH_MS = 1000;
const REPORTED_SIZE_STALE_MS = 10_000;

/** The text a memory is embedded from: title, then content. */
const embeddingText = (m: { title: string; content: string }) => `${m.title}\n\n${m.content}`;

export class EmbeddingBacklog extends Sweeper {
  private readonly reported: RecentValue<number, string | null>;

  constructor(
    private readonly db: PrismaClient,
    private readonly embedder: Embedder,
    logger: Logger,
    pollIntervalMs: number,
    track: (p: Promise<unknown>) => void,
  ) {
    super(logger, pollIntervalMs, track, 'embedding backlog sweep failed');
    this.reported = new RecentValue((modelId) => countBacklog(this.db, modelId), REPORTED_SIZE_FRESH_MS, REPORTED_SIZE_STALE_MS);
  }

  /** A local write: the reported size is counted again, and a sweep runs soon. */
  override nudge(): void {
    this.reported.forget();
    super.nudge();
  }

  size(): Promise<number> {
    return countBacklog(this.db, this.embedder.modelId);
  }

  /** The size for the health report: counted recently (see REPORTED_SIZE_FRESH_MS), not on every call. */
  reportedSize(): Promise<number> {
    return this.reported.get(this.embedder.modelId);
  }

  /** Embeds one batch of the backlog; returns whether there may be more. */
  protected async sweepOnce(): Promise<boolean> {
    if (!this.embedder.ready && !(await this.embedder.load())) return false;
    const modelId = this.embedder.modelId!;
    const batch = await backlogBatch(this.db, modelId, CLAIM_SIZE);
    if (batch.length === 0) return false;
    let results: (ChunkVector[] | Error)[];
    try {
      results = await this.embedder.embedDocuments(batch.map(embeddingText));
    } catch {
      // One bad row must not block the rest: retry one by one to find it.
      results = [];
      for (const memory of batch) {
        if (!this.embedder.ready) return false;
        results.push(await this.embedder.embedDocuments([embeddingText(memory)]).then((r) => r[0]!, (e: Error) => e));
      }
    }
    const failed = batch.flatMap((m, i) => (results[i] instanceof Error ? [{ memory: m, message: (results[i] as Error).message }] : []));
    const done = batch.flatMap((m, i) => (results[i] instanceof Error ? [] : [{ memory: m, chunks: results[i] as ChunkVector[] }]));
    try {
      for (const f of failed) await this.markFailed(f.memory, modelId, f.message);
      if (done.length) await this.store(done, modelId);
    } finally {
      this.reported.forget();
    }
    return true;
  }

  /**
   * Replaces the chunks of a batch of memories in one transaction, skipping any whose text
   * changed or that another sweeper finished meanwhile.
   */
  private async store(done: { memory: BacklogMemory; chunks: ChunkVector[] }[], modelId: string): Promise<void> {
    await this.db.$transaction(async (tx) => {
      const ids = new Set(await claimEmbedded(tx, modelId, done.map((d) => d.memory)));
      if (ids.size === 0) return;
      const stored = done.filter((d) => ids.has(d.memory.id));
      // Stamps first, in workspace order: concurrent sweepers lock them in the same order
      // (the chunk writes below bump them again, from the change-log trigger).
      for (const workspaceId of [...new Set(stored.map((d) => d.memory.workspaceId))].sort()) await bumpIndexStamp(tx, workspaceId);
      await replaceChunks(
        tx,
        [...ids],
        stored.flatMap(({ memory, chunks }) =>
          chunks.map((c, chunkIndex) => ({
            memoryId: memory.id,
            workspaceId: memory.workspaceId,
            chunkIndex,
            content: c.text,
            vector: vectorToBytes(c.vector),
            dimensions: c.vector.length,
            model: modelId,
          })),
        ),
      );
    });
  }

  private async markFailed(memory: BacklogMemory, modelId: string, message: string): Promise<void> {
    this.logger.warn({ memoryId: memory.id, reason: message }, 'embedding failed');
    await markEmbeddingFailed(this.db, memory, modelId, message.slice(0, 1000));
  }
}
