/**
 * The messages between a ProcessPool and its children, and the child's side of it:
 * `serveJobs` first lets `prepare` load what the job needs (libraries a child loads on first
 * use), says `started`, and only then runs the job: the pool's deadline counts from there, so
 * a child's start-up is never charged to a document. The answer is the job's value, or the
 * payload `describeError` makes of what it threw.
 */
export interface JobRequest {
  id: number;
  job: unknown;
}

export type JobAnswer = { id: number; started: true } | { id: number; ok: true; value: unknown } | { id: number; ok: false; error: unknown };

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
    let answer: JobAnswer;
    try {
      await handler.prepare?.(job);
      send({ id: request.id, started: true } satisfies JobAnswer);
      answer = { id: request.id, ok: true, value: await handler.run(job) };
    } catch (error) {
      answer = { id: request.id, ok: false, error: handler.describeError(error) };
    }
    send(answer);
  });
  // The parent owns this process: it ends it, and it ends with the parent (the channel closes).
  process.on('disconnect', () => process.exit(0));
  // A Ctrl-C in a terminal reaches the whole process group; the parent's shutdown decides.
  process.on('SIGINT', () => undefined);
}
