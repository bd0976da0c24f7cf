/**
 * The durable embedding backlog. Every memory row whose status is `pending` (or that is
 * `ready` under another model id) is work, whoever wrote it: this server's routes, the
 * conversation-close summary, imports, or another instance. The sweeper polls on an
 * interval and is nudged after local writes; several instances may sweep at once, because
 * a result is written only if the row is unchanged since it was read.
 */
import type { Logger } from 'pino';
import type { PrismaClient } from '../../db/client.js';
import type { Prisma } from '../../generated/prisma/client.js';
import type { Embedder } from './embedder.js';
import type { ChunkVector } from './protocol.js';
import { vectorToBytes } from './vectors.js';

/** Memories embedded per worker round trip. */
const CLAIM_SIZE = 32;

type Claimed = { id: string; workspaceId: string; title: string; content: string };

/** Rows that need (re-)embedding under `modelId`. */
export const backlogWhere = (modelId: string | null): Prisma.MemoryWhereInput =>
  modelId
    ? { OR: [{ embeddingStatus: 'pending' }, { embeddingStatus: 'ready', NOT: { embeddingModel: modelId } }] }
    : { embeddingStatus: 'pending' };

/** The text a memory is embedded from: title, then content. */
export const embeddingText = (m: { title: string; content: string }) => `${m.title}\n\n${m.content}`;

/** Marks a workspace's chunk set as changed, in the same transaction as the change. */
export async function bumpIndexStamp(tx: Pick<PrismaClient, '$executeRaw'>, workspaceId: string): Promise<void> {
  await tx.$executeRaw`INSERT INTO workspace_index_stamps (workspace_id, version, updated_at) VALUES (${workspaceId}, 1, now())
    ON CONFLICT (workspace_id) DO UPDATE SET version = workspace_index_stamps.version + 1, updated_at = now()`;
}

export class EmbeddingBacklog {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly embedder: Embedder,
    private readonly logger: Logger,
    private readonly pollIntervalMs: number,
    private readonly track: (p: Promise<unknown>) => void,
  ) {}

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

  /** Asks for a sweep soon (after a local write); sweeps never overlap. */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.sweepUntilEmpty()
      .catch((error) => this.logger.warn({ err: error }, 'embedding backlog sweep failed'))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.nudge();
        }
      });
    this.track(this.running);
  }

  /** Resolves once a sweep has found nothing left to do (tests, benchmarks, shutdown). */
  async drain(): Promise<void> {
    for (;;) {
      await this.running;
      if (!(await this.sweepOnce())) return;
    }
  }

  size(): Promise<number> {
    return this.prisma.memory.count({ where: backlogWhere(this.embedder.modelId) });
  }

  private async sweepUntilEmpty(): Promise<void> {
    while (!this.stopped && (await this.sweepOnce()));
  }

  /** Embeds one batch of the backlog; returns whether there may be more. */
  private async sweepOnce(): Promise<boolean> {
    if (!this.embedder.ready && !(await this.embedder.load())) return false;
    const modelId = this.embedder.modelId!;
    const batch: Claimed[] = await this.prisma.memory.findMany({
      where: backlogWhere(modelId),
      orderBy: { updatedAt: 'asc' },
      take: CLAIM_SIZE,
      select: { id: true, workspaceId: true, title: true, content: true },
    });
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
    for (const f of failed) await this.markFailed(f.memory, modelId, f.message);
    const done = batch.flatMap((m, i) => (results[i] instanceof Error ? [] : [{ memory: m, chunks: results[i] as ChunkVector[] }]));
    if (done.length) await this.store(done, modelId);
    return true;
  }

  /**
   * Replaces the chunks of a batch of memories in one transaction, skipping any whose text
   * changed or that another sweeper finished meanwhile. The claim is raw SQL so that
   * `updated_at` stays: storing vectors is not an edit.
   */
  private async store(done: { memory: Claimed; chunks: ChunkVector[] }[], modelId: string): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      const claimed = await tx.$queryRaw<{ id: string }[]>`UPDATE memories m
        SET embedding_status = 'ready', embedding_model = ${modelId}, embedding_error = NULL, embedded_at = now()
        FROM unnest(${done.map((d) => d.memory.id)}::varchar[], ${done.map((d) => d.memory.title)}::varchar[], ${done.map((d) => d.memory.content)}::text[]) AS c(id, title, content)
        WHERE m.id = c.id AND m.title = c.title AND m.content = c.content
          AND (m.embedding_status = 'pending' OR (m.embedding_status = 'ready' AND m.embedding_model <> ${modelId}))
        RETURNING m.id`;
      const ids = new Set(claimed.map((c) => c.id));
      if (ids.size === 0) return;
      const stored = done.filter((d) => ids.has(d.memory.id));
      await tx.memoryChunk.deleteMany({ where: { memoryId: { in: [...ids] } } });
      await tx.memoryChunk.createMany({
        data: stored.flatMap(({ memory, chunks }) =>
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
      });
      // Sorted, so that concurrent sweepers lock stamps in the same order.
      for (const workspaceId of [...new Set(stored.map((d) => d.memory.workspaceId))].sort()) await bumpIndexStamp(tx, workspaceId);
    });
  }

  private async markFailed(memory: Claimed, modelId: string, message: string): Promise<void> {
    this.logger.warn({ memoryId: memory.id, reason: message }, 'embedding failed');
    await this.prisma.$executeRaw`UPDATE memories SET embedding_status = 'failed', embedding_error = ${message.slice(0, 1000)}
      WHERE id = ${memory.id} AND title = ${memory.title} AND content = ${memory.content}
        AND (embedding_status = 'pending' OR (embedding_status = 'ready' AND embedding_model <> ${modelId}))`;
  }
}
