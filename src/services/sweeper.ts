/**
 * A durable queue's sweeper: the work lives in the database (rows in some state), and the
 * sweeper claims and does it a batch at a time. It polls on an interval and is nudged after
 * local writes; sweeps never overlap, and a nudge during a sweep asks for another. The
 * embedding backlog and the extraction queue are sweepers.
 */
import type { Logger } from 'pino';

export abstract class Sweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;

  constructor(
    protected readonly logger: Logger,
    private readonly pollIntervalMs: number,
    private readonly track: (p: Promise<unknown>) => void,
    /** What a failed sweep is logged as. */
    private readonly failure: string,
  ) {}

  /** Does one batch of the work; returns whether there may be more. */
  protected abstract sweepOnce(): Promise<boolean>;

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
      .catch((error) => this.logger.warn({ err: error }, this.failure))
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

  private async sweepUntilEmpty(): Promise<void> {
    while (!this.stopped && (await this.sweepOnce()));
  }
}
