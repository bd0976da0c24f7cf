/**
 * Breaks PostgreSQL connections that wait on a database that stopped answering.
 *
 * A stopped server resets connections, and node-postgres reports that at once. A frozen host or
 * a network partition does not: the socket stays open, the query is never answered, and the
 * request holding it hangs until the (long) query timeout. The pools therefore create their
 * sockets here; each socket records since when it has been waiting for an answer (bytes written,
 * nothing read since). When some socket has waited longer than the database timeout, a probe
 * opens a fresh connection and runs `SELECT 1` under the same timeout: if the database answers,
 * the query is merely slow and is left alone; if it does not, every socket that is waiting is
 * destroyed, so its query fails with a connection error (a 503) and the pool reconnects later.
 * (Over TLS the encrypted stream bypasses the plain socket, so such connections are not watched:
 * they keep the query timeout as their only bound.)
 */
import { Socket } from 'node:net';

/** A socket that notes when it sent something it has had no answer to yet. */
class WatchedSocket extends Socket {
  /** When the socket started waiting for an answer; null while idle or receiving. */
  waitingSince: number | null = null;

  override _write(chunk: unknown, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.waitingSince ??= Date.now();
    super._write(chunk, encoding, callback);
  }

  override _writev(chunks: { chunk: unknown; encoding: BufferEncoding }[], callback: (error?: Error | null) => void): void {
    this.waitingSince ??= Date.now();
    super._writev!(chunks, callback);
  }
}

export class ConnectionWatchdog {
  private readonly sockets = new Set<WatchedSocket>();
  private timer: NodeJS.Timeout | null = null;
  private probing = false;
  /** After a successful probe, slow queries are not probed again before this time. */
  private quietUntil = 0;

  constructor(
    private readonly timeoutMs: number,
    /** Resolves when the database answers a fresh connection within the timeout. */
    private readonly probe: () => Promise<unknown>,
  ) {}

  /** The node-postgres `stream` factory: a plain TCP socket, watched. */
  readonly stream = (): Socket => {
    const socket = new WatchedSocket();
    socket.on('data', () => {
      socket.waitingSince = null;
    });
    socket.once('close', () => this.sockets.delete(socket));
    this.sockets.add(socket);
    this.ensureTimer();
    return socket;
  };

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private ensureTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.check(), Math.max(50, Math.floor(this.timeoutMs / 4)));
    this.timer.unref();
  }

  private stuck(now: number): Socket[] {
    return [...this.sockets].filter((s) => s.waitingSince !== null && now - s.waitingSince > this.timeoutMs);
  }

  /** Exposed for tests; runs from the interval otherwise. */
  async check(): Promise<void> {
    if (this.probing || this.sockets.size === 0) return;
    const now = Date.now();
    if (now < this.quietUntil || this.stuck(now).length === 0) return;
    this.probing = true;
    try {
      await this.probe();
      this.quietUntil = Date.now() + this.timeoutMs;
    } catch {
      const error = new Error(`Connection terminated: the database did not answer within ${this.timeoutMs} ms`);
      for (const socket of this.stuck(Date.now())) socket.destroy(error);
    } finally {
      this.probing = false;
    }
  }
}
