/**
 * A streaming decoder of PostgreSQL's binary COPY format: the fastest way to read many rows
 * of bytea (no hex text, no per-row protocol message; bench `memories`, `cold load 100k`).
 * Fields are handed out as offsets into the received chunks, never copied: a tuple split
 * between two chunks is the only one joined (with as few bytes of the next chunk as it needs).
 *
 * Format: an 11-byte signature, int32 flags, int32 extension length and the extension; then
 * per tuple an int16 field count (−1 ends the data) and per field an int32 length (−1: NULL)
 * followed by that many bytes. All integers are big-endian.
 */
const SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00];
const EMPTY = new Uint8Array(0);

export type CopyField = Uint8Array | null;

/**
 * One tuple, valid only during the call: field f is `buffer[start[f], start[f] + length[f])`,
 * or NULL when length[f] is −1. The arrays are reused from tuple to tuple (no allocation per row).
 */
export type CopyTupleHandler = (buffer: Uint8Array, start: Int32Array, length: Int32Array, count: number) => void;

/**
 * Decodes a `COPY … (FORMAT binary)` output chunk by chunk, calling `onTuple` with each
 * tuple's field offsets (synchronously: no promise and no object per row).
 */
export class CopyBinaryTupleDecoder {
  private pending: Uint8Array = EMPTY;
  private headerRead = false;
  private ended = false;
  private start = new Int32Array(8);
  private length = new Int32Array(8);

  constructor(private readonly onTuple: CopyTupleHandler) {}

  push(received: Uint8Array): void {
    // A plain view: a Buffer's subarray builds a Buffer, several times slower per field.
    const chunk = new Uint8Array(received.buffer, received.byteOffset, received.byteLength);
    let offset = 0;
    // The unread tail of the previous chunk, joined with just enough of this one to complete it
    // (doubling what is taken, so a large field is joined in linear time).
    while (this.pending.length && !this.ended) {
      if (offset === chunk.length) return;
      const take = Math.min(chunk.length - offset, Math.max(4096, this.pending.length));
      const joined = new Uint8Array(this.pending.length + take);
      joined.set(this.pending);
      joined.set(chunk.subarray(offset, offset + take), this.pending.length);
      offset += take;
      const pendingBefore = this.pending.length;
      const used = this.parse(joined, 0);
      if (used > pendingBefore) {
        offset -= joined.length - used; // the rest is this chunk's own bytes: read them in place
        this.pending = EMPTY;
      } else this.pending = joined.subarray(used);
    }
    if (this.ended) return;
    const used = this.parse(chunk, offset);
    if (used < chunk.length) this.pending = chunk.slice(used);
  }

  /** Throws unless the stream ended with its trailer. */
  finish(): void {
    if (!this.ended) throw new Error('binary COPY stream ended early');
  }

  /** Reads every complete header, tuple and trailer of `buffer` from `at`; returns where it stopped. */
  private parse(buffer: Uint8Array, at: number): number {
    const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    const size = buffer.length;
    if (!this.headerRead) {
      for (let i = 0; i < SIGNATURE.length && at + i < size; i++) if (buffer[at + i] !== SIGNATURE[i]) throw new Error('not a binary COPY stream');
      if (size - at < 19 || size - at < 19 + view.getInt32(at + 15)) return at;
      at += 19 + view.getInt32(at + 15);
      this.headerRead = true;
    }
    for (;;) {
      if (size - at < 2) return at;
      const count = view.getInt16(at);
      if (count === -1) {
        this.ended = true;
        return size;
      }
      if (count < 0) throw new Error('malformed binary COPY tuple');
      if (count > this.start.length) {
        this.start = new Int32Array(count);
        this.length = new Int32Array(count);
      }
      // The whole tuple must be here before any field is handed out.
      let p = at + 2;
      let f = 0;
      for (; f < count; f++) {
        if (size - p < 4) break;
        const length = view.getInt32(p);
        p += 4;
        if (length > 0 && size - p < length) break;
        this.start[f] = p;
        this.length[f] = length < 0 ? -1 : length;
        if (length > 0) p += length;
      }
      if (f < count) return at;
      at = p;
      this.onTuple(buffer, this.start, this.length, count);
    }
  }
}

/**
 * Decodes a `COPY … (FORMAT binary)` output chunk by chunk, calling `onTuple` with each
 * tuple's fields (an array per tuple: for few rows; CopyBinaryTupleDecoder for many).
 */
export class CopyBinaryDecoder {
  private readonly tuples: CopyBinaryTupleDecoder;

  constructor(onTuple: (fields: CopyField[]) => void) {
    this.tuples = new CopyBinaryTupleDecoder((buffer, start, length, count) => {
      const fields: CopyField[] = new Array(count);
      for (let f = 0; f < count; f++) fields[f] = length[f]! < 0 ? null : buffer.subarray(start[f]!, start[f]! + length[f]!);
      onTuple(fields);
    });
  }

  push(chunk: Uint8Array): void {
    this.tuples.push(chunk);
  }

  finish(): void {
    this.tuples.finish();
  }
}

/** A COPY's output, pushed chunk by chunk (each valid only during the call): Database.copyBinary. */
export type CopySource = (onData: (chunk: Uint8Array) => void) => Promise<void>;

/** Decodes a whole `COPY … (FORMAT binary)` output into `onTuple` calls. */
export async function decodeCopyBinary(source: CopySource, onTuple: (fields: CopyField[]) => void): Promise<void> {
  const decoder = new CopyBinaryDecoder(onTuple);
  await source((chunk) => decoder.push(chunk));
  decoder.finish();
}

/** Like decodeCopyBinary, with field offsets instead of arrays (see CopyTupleHandler). */
export async function decodeCopyBinaryTuples(source: CopySource, onTuple: CopyTupleHandler): Promise<void> {
  const decoder = new CopyBinaryTupleDecoder(onTuple);
  await source((chunk) => decoder.push(chunk));
  decoder.finish();
}

/** A string as an SQL literal (COPY takes no parameters); standard_conforming_strings is on in both storages. */
export function sqlLiteral(value: string): string {
  if (value.includes('\u0000')) throw new Error('NUL in an SQL literal');
  return `'${value.replace(/'/g, "''")}'`;
}

/** Rows (fields already in each type's binary form) as one `COPY … FROM … (FORMAT binary)` input. */
export function encodeCopyBinary(rows: CopyField[][]): Uint8Array<ArrayBuffer> {
  let size = 19 + 2;
  for (const row of rows) {
    size += 2;
    for (const f of row) size += 4 + (f?.length ?? 0);
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(SIGNATURE); // flags and extension length stay 0
  let at = 19;
  for (const row of rows) {
    view.setInt16(at, row.length);
    at += 2;
    for (const f of row) {
      view.setInt32(at, f ? f.length : -1);
      at += 4;
      if (f) {
        out.set(f, at);
        at += f.length;
      }
    }
  }
  view.setInt16(at, -1);
  return out;
}
