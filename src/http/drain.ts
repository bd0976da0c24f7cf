/**
 * Draining for a graceful shutdown. Once shutdown begins, the server is draining: a request that still arrives on an open
 * keep-alive connection is refused with a 503 envelope (a proxy or client retries elsewhere)
 * instead of being served by a process about to exit, and every response in flight tells its
 * client to close the connection, so none is reused.
 *
 * The responses in flight form an intrusive doubly linked list, and unlinking one clears both
 * of its pointers. A Set was the obvious choice and a costly one: a Set churning at request
 * rate is rehashed again and again, each old table (holding the responses of its time) keeps a
 * pointer to its successor, and once one table reached the old generation the young-generation
 * GC kept every later request's objects alive and promoted them: 2–3 MB per scavenge, 3–5 ms
 * pauses, which were the profile route's p99.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { failure } from './envelope.js';

const PREV = Symbol('drain: previous response');
const NEXT = Symbol('drain: next response');
type InFlight = ServerResponse & { [PREV]?: InFlight | null; [NEXT]?: InFlight | null };

export class Drain {
  draining = false;
  private newest: InFlight | null = null;

  handler(app: (req: IncomingMessage, res: ServerResponse) => void) {
    return (req: IncomingMessage, res: InFlight) => {
      if (this.draining) {
        res.writeHead(503, { 'Content-Type': 'application/json; charset=utf-8', Connection: 'close', 'Retry-After': '5' });
        res.end(JSON.stringify(failure('Server is shutting down')));
        return;
      }
      this.link(res);
      res.once('close', () => this.unlink(res));
      app(req, res);
    };
  }

  /** How many responses are in flight (walks the list: for the shutdown log, not the hot path). */
  inFlight(): number {
    let count = 0;
    for (let res = this.newest; res; res = res[NEXT] ?? null) count++;
    return count;
  }

  start(): void {
    this.draining = true;
    for (let res = this.newest; res; res = res[NEXT] ?? null) if (!res.headersSent) res.setHeader('Connection', 'close');
  }

  private link(res: InFlight): void {
    res[PREV] = null;
    res[NEXT] = this.newest;
    if (this.newest) this.newest[PREV] = res;
    this.newest = res;
  }

  private unlink(res: InFlight): void {
    const previous = res[PREV] ?? null;
    const next = res[NEXT] ?? null;
    if (previous) previous[NEXT] = next;
    else if (this.newest === res) this.newest = next;
    if (next) next[PREV] = previous;
    res[PREV] = null;
    res[NEXT] = null;
  }
}
