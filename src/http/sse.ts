/** Server-Sent Events on an Express response (D12): named events with JSON data. */
import type { Request, Response } from 'express';

export const wantsEventStream = (req: Request, flag: boolean | undefined) =>
  flag ?? (req.headers.accept ?? '').toLowerCase().includes('text/event-stream');

export interface EventStream {
  send(event: string, data: unknown): void;
  end(): void;
  /** Aborted when the client goes away before the stream ended. */
  readonly closed: AbortSignal;
}

export function openEventStream(req: Request, res: Response, status = 200): EventStream {
  const closed = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) closed.abort();
  });
  res.status(status);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache, no-transform');
  res.setHeader('Connection', 'keep-alive');
  res.setHeader('X-Accel-Buffering', 'no'); // proxies must not buffer the stream
  res.flushHeaders();
  req.socket.setNoDelay(true);
  // Events sent in one turn of the event loop (the deltas of one provider read) leave in one
  // write: the socket is corked at the first and uncorked once the turn's callbacks have run.
  let corked = false;
  const uncork = () => {
    corked = false;
    if (!res.writableEnded) res.uncork(); // end() uncorks fully by itself
  };
  return {
    send(event, data) {
      if (res.writableEnded || res.destroyed) return;
      if (!corked) {
        corked = true;
        res.cork();
        setImmediate(uncork);
      }
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    end() {
      if (!res.writableEnded) res.end();
    },
    closed: closed.signal,
  };
}
