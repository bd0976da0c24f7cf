/**
 * The messages between a ProcessPool and its children, and the child's side of it:
 * `serveJobs` first lets `prepare` load what the job needs (libraries a child loads on first
 * use), says `started`, and only then runs the job: the pool's deadline counts from there, so
 * a child's start-up is never charged to a document. The answer is the job's value, or the
 * payload `describeError` makes of what it threw, with how much the child's resident memory
 * grew while the job ran (the pool retires a child that a job left large).
 */
export interface JobRequest {
  id: number;
  job: unknown;
}

export type JobAnswer =
  | { id: number; started: true }
  | ({ id: number; grewBytes: number } & ({ ok: true; value: unknown } | { ok: false; error: unknown }));

export interface JobHandler<Job, Result> {
  prepare?(job: Job): Promise<void>;
  run(job: Job): Promise<Result> | Result;
  describeError(error: unknown): unknown;
}

export function serveJobs<Job, Result>(handler: JobHandler<Job, Result>): void {
  if (!process.send) throw new Error('serveJobs runs in a child process started with an IPC channel');
  const send = process.send.bind(process);
  process.on('message', async (request: JobRequest) => {
    const job = request.job as Job;
    let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
    // Measured once the libraries are loaded: what they take stays useful, what the job took does not.
    let rssAtStart: number | null = null;
    try {
      await handler.prepare?.(job);
      send({ id: request.id, started: true } satisfies JobAnswer);
      rssAtStart = process.memoryUsage.rss();
      outcome = { ok: true, value: await handler.run(job) };
    } catch (error) {
      outcome = { ok: false, error: handler.describeError(error) };
    }
    const grewBytes = rssAtStart === null ? 0 : process.memoryUsage.rss() - rssAtStart;
    send({ id: request.id, grewBytes, ...outcome } satisfies JobAnswer);
  });
  // The parent owns this process: it ends it, and it ends with the parent (the channel closes).
  process.on('disconnect', () => process.exit(0));
  // A Ctrl-C in a terminal reaches the whole process group; the parent's shutdown decides.
  process.on('SIGINT', () => undefined);
}
