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
  return {
    send(event, data) {
      if (!res.writableEnded && !res.destroyed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    end() {
      if (!res.writableEnded) res.end();
    },
    closed: closed.signal,
  };
}
