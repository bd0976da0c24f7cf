/** A document-parser child process (see parser-pool.ts): answers parse jobs until its parent ends it. */
import { serveJobs } from '../../lib/process-pool-protocol.js';
import { DocumentRejected, unparseable } from './document-limits.js';
import { loadParsers, parseJob } from './parse-job.js';

serveJobs({
  prepare: loadParsers,
  run: parseJob,
  describeError(error) {
    // Anything else a parser throws on hostile input (a stack overflow, an internal assertion) is the document's doing.
    const refusal = error instanceof DocumentRejected ? error : unparseable();
    return { status: refusal.status, message: refusal.message };
  },
});
