/**
 * A small pool of child processes for work that must not run on the request loop: each job
 * goes to its own child, which has a V8 heap cap, a wall-clock deadline (then it is killed and
 * a fresh child serves the next job), at most `size` of them run at once and at most
 * `queueLimit` jobs wait; anything more is refused at once, never queued without bound.
 *
 * Child processes rather than worker threads: a worker's `resourceLimits` did not contain
 * pdf.js. Past its heap cap inside a structured-clone deserialisation, V8 aborted the whole
 * process instead of ending the worker. A child that runs out of memory dies alone.
 *
 * The children are forked by a small spawner process, never by the pool's own process while it
 * serves (process-pool-spawner.ts). They start on first use and exit after `idleMs` without
 * work, except the `warm` ones, started by `start()` and kept ready, so the first jobs of a
 * burst do not wait for a child to start. A child that its jobs grew by more than
 * `retireAfterGrowthMb` is retired as soon as the pool has nothing to do, so the memory large
 * documents took comes back at once, not after the child has been idle long enough. Children
 * get an empty environment (no secrets to read for a parser that goes wrong) and end with
 * their parent.
 */
import { childEntryPath } from './child-entry.js';
import type { JobAnswer, JobRequest } from './process-pool-protocol.js';
import { type SpawnedChild, Spawner } from './process-pool-spawner.js';

export interface ProcessPoolOptions {
  /** The module each child runs (it answers jobs with `serveJobs`); a `.ts` source is bundled first (child-entry.ts). */
  entry: URL;
  /** Children running at most. */
  size: number;
  /** Jobs waiting for a child at most; more are refused with PoolBusy. */
  queueLimit: number;
  /** Default deadline of one job: its wait in the queue plus its run (a child's start-up not counted). */
  timeoutMs: number;
  /** V8 old-generation heap of each child, in MB. */
  memoryMb: number;
  /** An idle child exits after this long (default 30 s), unless it is one of the warm children. */
  idleMs?: number;
  /** Children started by `start()` and kept ready, idle or not; one retired is replaced a moment later (default 0). */
  warm?: number;
  /** A child whose resident memory its jobs grew by more than this (MB) is retired once the pool is idle (default: none is). */
  retireAfterGrowthMb?: number;
  /** Told when a child dies while working (not when the pool killed it). */
  onCrash?(detail: { code: number | null; signal: string | null; outOfMemory: boolean; stderr: string }): void;
}

export interface RunOptions {
  /** This job's deadline, queue wait included, child start-up not (default: the pool's). */
  timeoutMs?: number;
  /** Aborting gives up the job, queued or running (a running child is killed). */
  signal?: AbortSignal;
}

/** Every child is busy and the queue is full, the job waited longer than its deadline, or no child could start. */
export class PoolBusy extends Error {}
/** The pool was closed (shutdown). */
export class PoolClosed extends Error {}
/** The job ran past its deadline; its child was killed. */
export class JobTimedOut extends Error {
  constructor(readonly timeoutMs: number) {
    super(`job took longer than ${timeoutMs} ms`);
  }
}
/** The child died while working: out of memory, or a crash. */
export class ChildDied extends Error {
  constructor(
    readonly outOfMemory: boolean,
    detail: string,
  ) {
    super(detail);
  }
}
/** The child answered with an error of its own (its serialisable payload). */
export class JobFailed extends Error {
  constructor(readonly payload: unknown) {
    super('job failed');
  }
}

interface Pending {
  job: unknown;
  timeoutMs: number;
  /** When the job was submitted: its deadline covers the wait for a child too. */
  submittedAt: number;
  signal?: AbortSignal;
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** Removes the waiting timer and abort listener. */
  cleanup(): void;
}

interface Slot {
  child: SpawnedChild;
  /** Resolves once the child has exited. */
  gone: Promise<void>;
  job: (Pending & { id: number; timer: NodeJS.Timeout }) | null;
  idle: NodeJS.Timeout | null;
  /** Set when the pool itself ends the child (deadline, abort, idle, close): its exit is expected. */
  retired: boolean;
  /** How much its jobs have grown its memory, in sum (loading libraries between jobs not counted). */
  grewBytes: number;
}

/** A child that has not started a job this long after getting it (start-up, loading libraries) is given up as overloaded. */
const STARTUP_LIMIT_MS = 60_000;
/** The least time a job that waited in the queue gets to run. */
const MIN_RUN_MS = 1000;
/**
 * Children run at a lower CPU priority (a higher nice value) than the server: on a machine with
 * as few cores as parsers, busy parsers would otherwise slow every other request down.
 */
const CHILD_NICENESS = 10;
const OUT_OF_MEMORY = /heap out of memory|Reached heap limit|Allocation failed/i;
/** A retired warm child is replaced this long after, not in the turn that answered the last job. */
const REFILL_DELAY_MS = 1000;
const MB = 1024 * 1024;

export class ProcessPool<Job, Result> {
  private readonly slots = new Set<Slot>();
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;
  /** Set by start(): the warm children are kept from then on. */
  private started = false;
  private refill: NodeJS.Timeout | null = null;
  private entryPath: Promise<string> | null = null;
  private resolvedEntry = '';
  private readonly spawner = new Spawner();

  constructor(private readonly options: ProcessPoolOptions) {}

  /** Children alive, children working, jobs waiting. */
  stats(): { children: number; busy: number; queued: number } {
    let busy = 0;
    for (const slot of this.slots) if (slot.job) busy++;
    return { children: this.slots.size, busy, queued: this.queue.length };
  }

  /**
   * Starts the spawner and the warm children, and resolves once they are forked (the first jobs
   * then need not wait for a child to start; a server calls it before it listens).
   */
  async start(): Promise<void> {
    await this.prepare();
    if (this.closed) return;
    this.started = true;
    this.fillWarm();
    // Bounded: a spawner that does not answer must not keep a server from listening (jobs start their own children).
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, STARTUP_LIMIT_MS)));
    await Promise.race([Promise.all([...this.slots].map((slot) => slot.child.forked)), giveUp]);
    clearTimeout(timer);
  }

  /** The pids of the children alive (forked and not yet exited). */
  async pids(): Promise<number[]> {
    const pids = await Promise.all([...this.slots].map((slot) => slot.child.forked));
    return pids.filter((pid): pid is number => pid !== null);
  }

  async run(job: Job, options: RunOptions = {}): Promise<Result> {
    await this.prepare();
    if (this.closed) throw new PoolClosed('pool closed');
    if (options.signal?.aborted) throw options.signal.reason;
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    return new Promise<Result>((resolve, reject) => {
      const pending: Pending = { job, timeoutMs, submittedAt: performance.now(), signal: options.signal, resolve: resolve as (v: unknown) => void, reject, cleanup: () => undefined };
      const slot = this.idleSlot() ?? (this.slots.size < this.options.size ? this.spawn() : null);
      if (slot) return this.dispatch(slot, pending);
      if (this.queue.length >= this.options.queueLimit) return reject(new PoolBusy('all parsers are busy'));
      this.enqueue(pending);
    });
  }

  /** Kills every child and the spawner; running and queued jobs fail with PoolClosed. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.refill) clearTimeout(this.refill);
    for (const pending of this.queue.splice(0)) {
      pending.cleanup();
      pending.reject(new PoolClosed('pool closed'));
    }
    const exits: Promise<void>[] = [];
    for (const slot of [...this.slots]) {
      const job = slot.job;
      if (job) {
        slot.job = null;
        job.cleanup();
        job.reject(new PoolClosed('pool closed'));
      }
      exits.push(slot.gone);
      this.retire(slot);
    }
    await Promise.all(exits);
    await this.spawner.close();
  }

  /** The children's program (bundled from sources once) and the spawner running. */
  private async prepare(): Promise<void> {
    this.entryPath ??= childEntryPath(this.options.entry);
    this.resolvedEntry = await this.entryPath;
    await this.spawner.ready();
  }

  private enqueue(pending: Pending): void {
    // Waiting is bounded too: a job that cannot start within its own deadline is refused as busy.
    const wait = setTimeout(() => leave(new PoolBusy('no parser became free in time')), pending.timeoutMs);
    const onAbort = () => leave(pending.signal!.reason);
    const leave = (error: Error) => {
      const index = this.queue.indexOf(pending);
      if (index >= 0) this.queue.splice(index, 1);
      pending.cleanup();
      pending.reject(error);
    };
    pending.signal?.addEventListener('abort', onAbort, { once: true });
    pending.cleanup = () => {
      clearTimeout(wait);
      pending.signal?.removeEventListener('abort', onAbort);
    };
    this.queue.push(pending);
  }

  private idleSlot(): Slot | null {
    for (const slot of this.slots) if (!slot.job && !slot.retired) return slot;
    return null;
  }

  private spawn(): Slot {
    let gone = () => {};
    const slot: Slot = {
      child: this.spawner.spawn(
        { entry: this.resolvedEntry, execArgv: [`--max-old-space-size=${this.options.memoryMb}`], niceness: CHILD_NICENESS },
        {
          message: (answer) => this.answered(slot, answer as JobAnswer),
          exit: (code, signal, stderr) => {
            gone();
            this.exited(slot, code, signal, stderr);
          },
        },
      ),
      gone: new Promise<void>((resolve) => (gone = resolve)),
      job: null,
      idle: null,
      retired: false,
      grewBytes: 0,
    };
    this.slots.add(slot);
    return slot;
  }

  private dispatch(slot: Slot, pending: Pending): void {
    if (slot.idle) clearTimeout(slot.idle);
    slot.idle = null;
    const id = this.nextId++;
    const timer = setTimeout(() => this.abandon(slot, new PoolBusy('the child did not start the job in time')), STARTUP_LIMIT_MS);
    const onAbort = () => this.abandon(slot, pending.signal!.reason);
    pending.signal?.addEventListener('abort', onAbort, { once: true });
    const job = { ...pending, id, timer };
    job.cleanup = () => {
      clearTimeout(job.timer);
      pending.signal?.removeEventListener('abort', onAbort);
    };
    slot.job = job;
    this.spawner.ref(true);
    // A child that cannot take it exits (or the spawner does): the job fails as a crash.
    slot.child.send({ id, job: pending.job } satisfies JobRequest);
  }

  private answered(slot: Slot, answer: JobAnswer): void {
    const job = slot.job;
    if (!job || job.id !== answer.id) return;
    if ('started' in answer) {
      // The child is ready and the job begins. Its deadline counts the time it waited in the queue
      // (not the child's start-up), so a job queued behind busy children is still answered within
      // about one deadline, not two; it keeps at least MIN_RUN_MS to run.
      clearTimeout(job.timer);
      const left = Math.max(MIN_RUN_MS, job.timeoutMs - (performance.now() - job.submittedAt));
      job.timer = setTimeout(() => this.abandon(slot, new JobTimedOut(job.timeoutMs)), left);
      return;
    }
    slot.job = null;
    job.cleanup();
    if (answer.ok) job.resolve(answer.value);
    else job.reject(new JobFailed(answer.error));
    slot.grewBytes += answer.grewBytes;
    this.next(slot);
  }

  /** Gives up the slot's job with `error` and kills its child (deadline or abort). */
  private abandon(slot: Slot, error: Error): void {
    const job = slot.job;
    if (!job) return;
    slot.job = null;
    job.cleanup();
    job.reject(error);
    this.retire(slot);
    this.pump();
    this.whenIdle();
  }

  /** The slot is free: it takes the next queued job, or rests. */
  private next(slot: Slot): void {
    const pending = this.queue.shift();
    if (pending) {
      pending.cleanup();
      return this.dispatch(slot, pending);
    }
    this.rest(slot);
    this.whenIdle();
  }

  /**
   * With no job left running, the children do not keep the process alive, and those their jobs
   * grew large are retired (the warm ones made up a moment later). Not while jobs come and go:
   * a grown child's heap is capped, and its replacement would only slow the burst down.
   */
  private whenIdle(): void {
    if (this.stats().busy > 0) return;
    this.spawner.ref(false);
    const { retireAfterGrowthMb } = this.options;
    if (retireAfterGrowthMb === undefined) return;
    for (const slot of [...this.slots]) if (slot.grewBytes > retireAfterGrowthMb * MB) this.retire(slot);
  }

  /** Past the warm ones, an idle child exits after `idleMs`. */
  private rest(slot: Slot): void {
    if (this.slots.size <= (this.options.warm ?? 0)) return;
    slot.idle = setTimeout(() => {
      slot.idle = null;
      if (this.slots.size > (this.options.warm ?? 0)) this.retire(slot);
    }, this.options.idleMs ?? 30_000);
    slot.idle.unref();
  }

  private fillWarm(): void {
    while (!this.closed && this.slots.size < (this.options.warm ?? 0)) this.rest(this.spawn());
    this.whenIdle();
  }

  /** Makes up the warm children a moment after one was retired or died, if the pool is idle then (a job meanwhile starts its own). */
  private scheduleRefill(): void {
    if (!this.started || this.closed || this.refill) return;
    this.refill = setTimeout(() => {
      this.refill = null;
      if (this.stats().busy === 0) this.fillWarm();
    }, REFILL_DELAY_MS);
    this.refill.unref();
  }

  /** Starts children for queued jobs while there is room. */
  private pump(): void {
    while (this.queue.length && !this.closed) {
      const slot = this.idleSlot() ?? (this.slots.size < this.options.size ? this.spawn() : null);
      if (!slot) return;
      const pending = this.queue.shift()!;
      pending.cleanup();
      this.dispatch(slot, pending);
    }
  }

  private retire(slot: Slot): void {
    if (slot.idle) clearTimeout(slot.idle);
    slot.idle = null;
    slot.retired = true;
    this.slots.delete(slot);
    slot.child.kill();
    this.scheduleRefill();
  }

  private exited(slot: Slot, code: number | null, signal: NodeJS.Signals | null, stderr: string): void {
    const wasRetired = slot.retired;
    this.slots.delete(slot);
    if (slot.idle) clearTimeout(slot.idle);
    const job = slot.job;
    slot.job = null;
    if (!wasRetired) {
      const outOfMemory = OUT_OF_MEMORY.test(stderr);
      if (job) this.options.onCrash?.({ code, signal, outOfMemory, stderr });
      if (job) {
        job.cleanup();
        job.reject(new ChildDied(outOfMemory, `child exited (${signal ?? `code ${code}`})`));
      }
      this.scheduleRefill();
    }
    this.pump();
    this.whenIdle();
  }
}
