/**
 * A ProcessPool child for the pool's own tests: jobs that answer, spin forever, allocate
 * until the heap cap, keep some memory, exit, or start slowly, so each way a job can end is
 * produced on demand.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { serveJobs } from '../../src/lib/process-pool-protocol.js';

export type PoolTestJob =
  | { do: 'echo'; value: unknown }
  | { do: 'pid' }
  /** Answers its parent's pid. */
  | { do: 'parent' }
  | { do: 'spin' }
  | { do: 'allocate' }
  /** Keeps `mb` MB of touched memory for the rest of the child's life, after `holdMs`; answers the pid. */
  | { do: 'grow'; mb: number; holdMs?: number }
  | { do: 'exit'; code: number }
  | { do: 'fail'; message: string }
  | { do: 'slow-start'; startMs: number };

const kept: unknown[] = [];

serveJobs<PoolTestJob, unknown>({
  async prepare(job) {
    if (job.do === 'slow-start') await sleep(job.startMs);
  },
  run(job) {
    switch (job.do) {
      case 'echo':
        return job.value;
      case 'pid':
      case 'slow-start':
        return process.pid;
      case 'parent':
        return process.ppid;
      case 'spin':
        for (;;);
      case 'allocate':
        for (;;) kept.push(new Array(100_000).fill({ n: kept.length }));
      case 'grow':
        kept.push(Buffer.alloc(job.mb * 1024 * 1024, 1));
        return sleep(job.holdMs ?? 0).then(() => process.pid);
      case 'exit':
        return process.exit(job.code);
      case 'fail':
        throw new Error(job.message);
    }
  },
  describeError: (error) => ({ message: (error as Error).message }),
});
