/**
 * Speed layer: one gzip body assembled from pieces compressed apart (the technique of pigz).
 *
 * Replaces: zlib.gzip over the whole text, for an answer most of which was already sent
 * before: the whole memory list (services/memories/list-pieces.ts), where a poll after one
 * change would otherwise compress 45 MB again (50,000 memories) to send one changed memory.
 *
 * A deflate stream is a sequence of blocks, and a block may be followed by any other: a piece
 * compressed with a sync flush ends on a byte boundary, not final, so pieces compressed apart
 * concatenate into one valid stream (each piece only refers back into itself). The gzip
 * member around them needs the CRC-32 and length of the whole text, combined here from each
 * piece's own (zlib's crc32_combine) so the text is never held whole. Compared with one pass:
 * deflate's window is 32 kB, so pieces of tens of kB lose almost nothing of the ratio; each
 * sync flush adds 5 bytes.
 *
 * Gain: at 50,000 memories (bench `polled-lists`, full list gzip) the answer costs the
 * server the pieces' assembly instead of compressing the whole text, figures in
 * docs/benchmarks.md.
 *
 * Pinned by: tests/unit/gzip-pieces.test.ts (gunzip of the assembly equals the concatenated
 * text for arbitrary pieces; the combined CRC equals zlib's CRC of the whole).
 *
 * Remove when: node's zlib can append to a gzip stream from saved state (it cannot).
 */
import * as zlib from 'node:zlib';
import { promisify } from 'node:util';

/** A piece of text, deflated with a sync flush, with the CRC-32 and byte length of its text. */
export interface DeflatedPiece {
  deflated: Buffer;
  crc: number;
  length: number;
}

const deflateRaw = promisify(zlib.deflateRaw);
const SYNC = { finishFlush: zlib.constants.Z_SYNC_FLUSH } as const;

/** Deflates `text` (on libuv's thread pool) into a piece that may be followed by others. */
export async function deflatePiece(text: string | Buffer, level = 6): Promise<DeflatedPiece> {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  return { deflated: await deflateRaw(bytes, { ...SYNC, level }), crc: zlib.crc32(bytes), length: bytes.length };
}

/** deflatePiece on the calling thread, for short texts (envelope parts). */
export function deflatePieceSync(text: string | Buffer, level = 6): DeflatedPiece {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  return { deflated: zlib.deflateRawSync(bytes, { ...SYNC, level }), crc: zlib.crc32(bytes), length: bytes.length };
}

const inflateRaw = promisify(zlib.inflateRaw);

/** A piece's text again (on libuv's thread pool). */
export const inflatePiece = (piece: DeflatedPiece): Promise<Buffer> => inflateRaw(piece.deflated, SYNC);

/** gzip's header: deflate, no name or time, unknown OS. */
const HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff]);
/** An empty final block, which ends the deflate stream. */
const FINAL = zlib.deflateRawSync(Buffer.alloc(0));

/** The gzip body of the pieces' texts in order, as buffers to send one after the other. */
export function gzipOf(pieces: DeflatedPiece[]): Buffer[] {
  let crc = 0;
  let length = 0;
  for (const piece of pieces) {
    crc = crc32Combine(crc, piece.crc, piece.length);
    length += piece.length;
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(length % 2 ** 32, 4);
  return [HEADER, ...pieces.map((p) => p.deflated), FINAL, trailer];
}

// CRC-32 combination, as zlib 1.2.12+ computes it (multmodp / x2nmodp over GF(2)).
const POLY = 0xedb88320;

/** a(x)·b(x) modulo the CRC polynomial, in the reflected bit order CRC-32 uses. */
function multmodp(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** x^(2^k) modulo the polynomial, for k = 0..31. */
const X2N = (() => {
  const table = new Array<number>(32);
  let p = 0x40000000; // x^1
  table[0] = p;
  for (let k = 1; k < 32; k++) table[k] = p = multmodp(p, p);
  return table;
})();

/** x^(n·2^k) modulo the polynomial. */
function x2nmodp(n: number, k: number): number {
  let p = 0x80000000; // x^0
  while (n > 0) {
    if (n % 2 === 1) p = multmodp(X2N[k & 31]!, p);
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

/** The CRC-32 of A followed by B, from A's CRC, B's CRC and B's length in bytes. */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  return (multmodp(x2nmodp(lengthB, 3), crcA) ^ crcB) >>> 0;
}
