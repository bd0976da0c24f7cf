/**
 * Every parser of untrusted documents (mammoth, pdf.js, linkedom with Readability, RTF, CSV,
 * JSON, text decoding) runs in a pool of child processes, never on the request loop. This is
 * the main side: it sends a parse job with the document limits and turns each way a job can
 * end into the API's answer:
 * - the document is refused by a parser or a limit: its 400, 413 or 422 message;
 * - the parse runs past IMPORT_PARSE_TIMEOUT or past IMPORT_WORKER_MEMORY_MB: 422 naming the limit;
 * - every parser is busy and the queue is full: 503 with Retry-After;
 * - the server is shutting down: 503.
 */
import type { Logger } from 'pino';
import type { Config } from '../../config/env.js';
import { AppError } from '../../lib/errors.js';
import { ChildDied, JobFailed, JobTimedOut, PoolBusy, PoolClosed, ProcessPool } from '../../lib/process-pool.js';
import { parserStopped, parseTooBig, parseTooSlow, type RefusalStatus } from './document-limits.js';
import type { ParsedDocument, ParseJob, ParseRequest } from './parse-job.js';

export const PARSERS_BUSY = 'Too many documents are being imported right now; try again in a few seconds';
export const SHUTTING_DOWN = 'Server is shutting down';
const RETRY_AFTER_SECONDS = '5';
/**
 * A parser process that a document left this much larger is replaced by a fresh one. Refused
 * DOCX and PDF bombs left their parser 55-160 MB larger, and large real documents 50-70 MB;
 * markup refused by its nesting depth, and small documents, a few MB.
 */
const RETIRE_AFTER_GROWTH_MB = 32;

export class DocumentParser {
  private readonly pool: ProcessPool<ParseRequest, ParsedDocument>;

  constructor(
    private readonly config: Config['imports'],
    logger: Logger,
  ) {
    this.pool = new ProcessPool({
      // parse-child.ts from sources, parse-child.js when built.
      entry: new URL(`./parse-child${import.meta.url.slice(import.meta.url.lastIndexOf('.'))}`, import.meta.url),
      size: config.workers,
      queueLimit: config.queueLimit,
      timeoutMs: config.parseTimeoutMs,
      memoryMb: config.workerMemoryMb,
      warm: config.workers,
      retireAfterGrowthMb: RETIRE_AFTER_GROWTH_MB,
      onCrash: ({ code, signal, outOfMemory, stderr }) =>
        logger.warn({ code, signal, outOfMemory, stderr: stderr.slice(-1000) }, 'document parser process died while parsing'),
    });
  }

  /** Starts the parser processes ahead of the first document (the server does, before it listens). */
  start(): Promise<void> {
    return this.pool.start();
  }

  /**
   * Parses one document in a child process, within IMPORT_PARSE_TIMEOUT or the shorter
   * `timeoutMs` the caller has left (a URL import's overall deadline); a parse past it is the
   * 422 that names the time it had.
   */
  async parse(job: ParseJob, options: { timeoutMs?: number } = {}): Promise<ParsedDocument> {
    const timeoutMs = Math.min(this.config.parseTimeoutMs, options.timeoutMs ?? Infinity);
    try {
      return await this.pool.run({ ...job, limits: this.config.limits }, { timeoutMs });
    } catch (error) {
      throw this.answerFor(error);
    }
  }

  stats() {
    return this.pool.stats();
  }

  /** The parser processes running now. */
  pids(): Promise<number[]> {
    return this.pool.pids();
  }

  /** Kills the parser processes; jobs still running or waiting get a 503. */
  close(): Promise<void> {
    return this.pool.close();
  }

  private answerFor(error: unknown): unknown {
    if (error instanceof JobFailed) {
      const { status, message } = error.payload as { status: RefusalStatus; message: string };
      return new AppError(status, message);
    }
    if (error instanceof JobTimedOut) return new AppError(422, parseTooSlow(error.timeoutMs).message);
    if (error instanceof ChildDied) return new AppError(422, (error.outOfMemory ? parseTooBig(this.config.workerMemoryMb) : parserStopped()).message);
    if (error instanceof PoolBusy) return new AppError(503, PARSERS_BUSY, null, { 'Retry-After': RETRY_AFTER_SECONDS });
    if (error instanceof PoolClosed) return new AppError(503, SHUTTING_DOWN);
    return error;
  }
}
