/**
 * A streaming decoder of PostgreSQL's binary COPY format: the fastest way to read many rows
 * of bytea (no hex text, no per-row protocol message; bench `memories`, `cold load 100k`).
 * Fields are handed out as views into the received chunks, never copied.
 *
 * Format: an 11-byte signature, int32 flags, int32 extension length and the extension; then
 * per tuple an int16 field count (−1 ends the data) and per field an int32 length (−1: NULL)
 * followed by that many bytes. All integers are big-endian.
 */
const SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00];

export type CopyField = Uint8Array | null;

/**
 * Decodes a `COPY … (FORMAT binary)` output chunk by chunk, calling `onTuple` with each
 * tuple's fields (synchronously: no promise per row). Fields are views into the chunks.
 */
export class CopyBinaryDecoder {
  private buffer: Uint8Array = new Uint8Array(0);
  private headerRead = false;
  private ended = false;

  constructor(private readonly onTuple: (fields: CopyField[]) => void) {}

  push(chunk: Uint8Array): void {
    if (this.ended) return;
    // Only the unread tail of the previous chunk is joined to the new one.
    let buffer = chunk;
    if (this.buffer.length) {
      buffer = new Uint8Array(this.buffer.length + chunk.length);
      buffer.set(this.buffer);
      buffer.set(chunk, this.buffer.length);
    }
    const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    let at = 0;
    if (!this.headerRead) {
      if (buffer.length < 19 || buffer.length < 19 + view.getInt32(15)) {
        this.buffer = buffer;
        return;
      }
      if (SIGNATURE.some((b, i) => buffer[i] !== b)) throw new Error('not a binary COPY stream');
      at = 19 + view.getInt32(15);
      this.headerRead = true;
    }
    for (;;) {
      if (buffer.length - at < 2) break;
      const count = view.getInt16(at);
      if (count === -1) {
        this.ended = true;
        at = buffer.length;
        break;
      }
      // The whole tuple must be here before any field is handed out.
      let end = at + 2;
      let complete = true;
      for (let f = 0; f < count && complete; f++) {
        if (buffer.length - end < 4) complete = false;
        else {
          end += 4 + Math.max(0, view.getInt32(end));
          if (end > buffer.length) complete = false;
        }
      }
      if (!complete) break;
      const fields: CopyField[] = new Array(count);
      let p = at + 2;
      for (let f = 0; f < count; f++) {
        const length = view.getInt32(p);
        p += 4;
        fields[f] = length < 0 ? null : buffer.subarray(p, p + length);
        p += Math.max(0, length);
      }
      at = end;
      this.onTuple(fields);
    }
    this.buffer = at < buffer.length ? buffer.slice(at) : new Uint8Array(0);
  }

  /** Throws unless the stream ended with its trailer. */
  finish(): void {
    if (!this.ended) throw new Error('binary COPY stream ended early');
  }
}

/** Decodes a whole `COPY … (FORMAT binary)` output into `onTuple` calls. */
export async function decodeCopyBinary(chunks: AsyncIterable<Uint8Array>, onTuple: (fields: CopyField[]) => void): Promise<void> {
  const decoder = new CopyBinaryDecoder(onTuple);
  for await (const chunk of chunks) decoder.push(chunk);
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
