/**
 * `COPY … TO STDOUT` read straight off a PostgreSQL connection: the cold load of a workspace's
 * vectors is one COPY of about 160 MB per 100,000 chunks, and framing it through a Node stream
 * (pg-copy-streams: a buffer list, a copy of every received chunk, a stream push per read) cost
 * about as much CPU as decoding and laying out the vectors (bench `cold load 100k`).
 *
 * The connection is node-postgres's, connected and authenticated (TLS, SCRAM, whatever its
 * settings say) and idle; its socket's data is taken over for the length of the COPY. Each
 * received buffer's CopyData payloads are moved together in place over the 5-byte message
 * headers between them and handed out as one view, valid only during the call. Other messages
 * are read to their end: an ErrorResponse rejects with PostgreSQL's message once the server is
 * ready again (ReadyForQuery), which ends the COPY either way.
 */
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

const COPY_DATA = 0x64; // 'd'
const ERROR_RESPONSE = 0x45; // 'E'
const READY_FOR_QUERY = 0x5a; // 'Z'

/** An error PostgreSQL reported for the COPY's statement. */
export class CopyOutError extends Error {
  constructor(
    message: string,
    /** The SQLSTATE, e.g. 42P01. */
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'CopyOutError';
  }
}

/** The simple-query message carrying `sql`. */
function queryMessage(sql: string): Buffer {
  const text = Buffer.from(sql, 'utf8');
  if (text.includes(0)) throw new Error('NUL in a COPY statement');
  const message = Buffer.allocUnsafe(6 + text.length);
  message[0] = 0x51; // 'Q'
  message.writeInt32BE(5 + text.length, 1);
  text.copy(message, 5);
  message[5 + text.length] = 0;
  return message;
}

/**
 * The backend's messages after the COPY statement, fed buffer by buffer: CopyData payloads go to
 * `onData`, the rest is skipped except an ErrorResponse (kept) and ReadyForQuery (the end).
 */
export class CopyOutParser {
  private readonly header = new Uint8Array(5);
  private headerFill = 0;
  private type = 0;
  /** Payload bytes of the current message not received yet (−1: reading a header). */
  private remaining = -1;
  private errorBytes: number[] | null = null;
  error: CopyOutError | null = null;
  ended = false;

  constructor(private readonly onData: (chunk: Uint8Array) => void) {}

  /** Reads one received buffer (which it may overwrite); true once ReadyForQuery has been read. */
  feed(received: Uint8Array): boolean {
    const buffer = new Uint8Array(received.buffer, received.byteOffset, received.byteLength);
    const size = buffer.length;
    let at = 0;
    let write = 0;
    while (at < size && !this.ended) {
      if (this.remaining < 0) {
        // A message header, possibly split between two buffers.
        const take = Math.min(5 - this.headerFill, size - at);
        for (let i = 0; i < take; i++) this.header[this.headerFill + i] = buffer[at + i]!;
        this.headerFill += take;
        at += take;
        if (this.headerFill < 5) break;
        this.headerFill = 0;
        this.type = this.header[0]!;
        const length = ((this.header[1]! << 24) | (this.header[2]! << 16) | (this.header[3]! << 8) | this.header[4]!) - 4;
        if (length < 0) throw new Error('malformed message from PostgreSQL during COPY');
        this.remaining = length;
        if (this.type === ERROR_RESPONSE) this.errorBytes = [];
      }
      const take = Math.min(this.remaining, size - at);
      if (this.type === COPY_DATA) {
        if (write !== at) buffer.copyWithin(write, at, at + take);
        write += take;
      } else if (this.errorBytes) {
        for (let i = 0; i < take; i++) this.errorBytes.push(buffer[at + i]!);
      }
      at += take;
      this.remaining -= take;
      if (this.remaining > 0) break;
      this.remaining = -1;
      if (this.type === ERROR_RESPONSE && this.errorBytes) {
        this.error ??= errorFrom(Uint8Array.from(this.errorBytes));
        this.errorBytes = null;
      } else if (this.type === READY_FOR_QUERY) this.ended = true;
    }
    if (write > 0 && !this.error) this.onData(buffer.subarray(0, write));
    return this.ended;
  }
}

/** An ErrorResponse's fields: a type byte and a NUL-terminated text each, a NUL at the end. */
function errorFrom(payload: Uint8Array): CopyOutError {
  const fields = new Map<string, string>();
  const decoder = new TextDecoder();
  let at = 0;
  while (at < payload.length && payload[at] !== 0) {
    const type = String.fromCharCode(payload[at]!);
    const end = payload.indexOf(0, at + 1);
    if (end < 0) break;
    fields.set(type, decoder.decode(payload.subarray(at + 1, end)));
    at = end + 1;
  }
  return new CopyOutError(fields.get('M') ?? 'COPY failed', fields.get('C'));
}

const RECEIVE_BUFFER = 256 * 1024;

/**
 * A plain TCP socket whose reads land in one reused buffer (Node's `onread`): a socket's 'data'
 * events allocate a buffer per read, 160 MB of them per 100,000 chunks, which the garbage
 * collector then chases. Outside a COPY it emits 'data' with a copy of each read, as any socket.
 */
export class CopyOutSocket extends Socket {
  /** During a COPY: where reads go, in the reused buffer. */
  sink: ((chunk: Uint8Array) => void) | null = null;

  constructor() {
    const holder: { socket?: CopyOutSocket } = {};
    // `onread` is a documented socket option its types leave out.
    super({
      onread: {
        buffer: Buffer.allocUnsafe(RECEIVE_BUFFER),
        callback: (n: number, buffer: Uint8Array) => {
          const socket = holder.socket!;
          if (socket.sink) socket.sink(buffer.subarray(0, n));
          else socket.emit('data', Buffer.from(buffer.subarray(0, n)));
          return true;
        },
      },
    } as ConstructorParameters<typeof Socket>[0]);
    holder.socket = this;
  }
}

/**
 * Runs `COPY (select) TO STDOUT` on the idle, connected socket `stream` (node-postgres's
 * `client.connection.stream`), handing each received run of CopyData bytes to `onData`.
 * A CopyOutSocket is read in its reused buffer; another socket (TLS) has its data listeners set
 * aside for the length of the COPY.
 */
export function copyOutOnSocket(stream: Duplex, statement: string, onData: (chunk: Uint8Array) => void): Promise<void> {
  const message = queryMessage(statement);
  const parser = new CopyOutParser(onData);
  const direct = stream instanceof CopyOutSocket ? stream : null;
  const kept = direct ? [] : (stream.listeners('data') as ((chunk: Buffer) => void)[]);
  if (!direct) stream.removeAllListeners('data');
  return new Promise<void>((resolve, reject) => {
    const finish = (error?: unknown) => {
      if (direct) direct.sink = null;
      else stream.off('data', onChunk);
      stream.off('error', finish);
      stream.off('close', onClose);
      for (const listener of kept) stream.on('data', listener);
      if (error) reject(error);
      else if (parser.error) reject(parser.error);
      else resolve();
    };
    const onClose = () => finish(new Error('the database connection closed during COPY'));
    const onChunk = (chunk: Uint8Array) => {
      try {
        if (parser.feed(chunk)) finish();
      } catch (error) {
        stream.destroy();
        finish(error);
      }
    };
    if (direct) direct.sink = onChunk;
    else stream.on('data', onChunk);
    stream.on('error', finish);
    stream.on('close', onClose);
    stream.write(message);
  });
}
