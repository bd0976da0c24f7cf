/**
 * The binary COPY decoder and the streamed cold load: a stream cut anywhere (inside the
 * header, a length, a field) decodes to the same tuples, and a matrix loaded from a COPY
 * stream holds exactly the chunks a matrix built from decoded rows holds, and searches alike.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { streamWorkspaceChunkVectors } from '../../src/data/memory-chunks.js';
import { CopyBinaryDecoder, CopyBinaryTupleDecoder, type CopyField } from '../../src/db/copy-binary.js';
import { vectorToBytes } from '../../src/lib/vectors.js';
import { buildMatrix, MatrixLoader, matrixBytes, matrixContents, searchMatrix } from '../../src/services/memories/vector-index.js';

/** A `COPY … (FORMAT binary)` stream of these tuples (null: a NULL field). */
function copyStream(tuples: (Uint8Array | null)[][], extension = 0): Uint8Array {
  const parts: number[] = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, extension, ...new Array(extension).fill(7)];
  const int = (n: number, bytes: number) => {
    for (let i = bytes - 1; i >= 0; i--) parts.push((n >>> (i * 8)) & 0xff);
  };
  for (const t of tuples) {
    int(t.length, 2);
    for (const f of t) {
      if (f === null) int(-1 >>> 0, 4);
      else {
        int(f.length, 4);
        parts.push(...f);
      }
    }
  }
  int(0xffff, 2);
  return Uint8Array.from(parts);
}

/** The stream cut at these offsets. */
function cut(stream: Uint8Array, at: number[]): Uint8Array[] {
  const points = [...new Set(at.map((a) => a % (stream.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, stream.length]) {
    // Node Buffers, as the driver hands them out.
    out.push(Buffer.from(stream.subarray(from, p)));
    from = p;
  }
  return out;
}

const text = (s: string) => new TextEncoder().encode(s);

describe('binary COPY decoding', () => {
  it('decodes the same tuples however the stream is cut', () => {
    const field = fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null });
    fc.assert(
      fc.property(fc.array(fc.array(field, { maxLength: 4 }), { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 20 }), fc.nat(5), (tuples, at, extension) => {
        const stream = copyStream(tuples, extension);
        const fields: CopyField[][] = [];
        const decoder = new CopyBinaryDecoder((f) => fields.push(f.map((x) => (x ? Uint8Array.from(x) : null))));
        const raw: string[] = [];
        const tuplesOnly = new CopyBinaryTupleDecoder((buffer, start, length, count) => {
          raw.push(Array.from({ length: count }, (_, i) => (length[i]! < 0 ? 'null' : Array.from(buffer.subarray(start[i]!, start[i]! + length[i]!)).join('.'))).join('|'));
        });
        for (const chunk of cut(stream, at)) {
          decoder.push(chunk);
          tuplesOnly.push(chunk);
        }
        decoder.finish();
        tuplesOnly.finish();
        expect(fields).toEqual(tuples.map((t) => t.map((f) => (f ? Uint8Array.from(f) : null))));
        expect(raw).toEqual(tuples.map((t) => t.map((f) => (f ? Array.from(f).join('.') : 'null')).join('|')));
      }),
      { numRuns: 300 },
    );
  });

  it('throws on a stream cut short or not in the binary format', () => {
    const stream = copyStream([[text('a')]]);
    const short = new CopyBinaryDecoder(() => {});
    short.push(stream.subarray(0, stream.length - 2));
    expect(() => short.finish()).toThrow(/ended early/);
    const wrong = new CopyBinaryDecoder(() => {});
    expect(() => wrong.push(text('memory_id\tvector\nabcdefghijklmnopqrstuvwxyz'))).toThrow(/not a binary COPY stream/);
  });
});

describe('streamed cold load', () => {
  it('holds little more memory than the matrix needs (the cache budget counts all of it)', () => {
    const dims = 384;
    const vector = vectorToBytes(Float32Array.from({ length: dims }, (_, i) => Math.sin(i)));
    const o = { version: 1n, model: 'm', dimensions: dims, kernel: 'wasm' as const, quantizeFrom: 4096 };
    const loader = new MatrixLoader(o);
    // 22,000 rows are just past 32 MiB: a buffer grown by doubling would hold 64 MiB.
    for (let r = 0; r < 22_000; r++) loader.add(`memory-${Math.floor(r / 10)}`, vector, 0, vector.byteLength);
    const loaded = loader.finish();
    expect(loaded.kernel.kind).toBe('wasm');
    expect(loaded.quantized).not.toBeNull();
    // The rows with room to spare, the scan's scratch and the int8 copy: about 1,950 bytes a slot.
    const needed = loaded.capacity * (dims * 4 + 12 + dims);
    expect(loaded.kernel.buffer.byteLength).toBeLessThanOrEqual(needed * 1.15 + 2 ** 20);
    expect(matrixBytes(loaded)).toBeLessThanOrEqual(matrixBytes(buildMatrix([...matrixContents(loaded)].flatMap(([memoryId, rows]) => rows.map((v) => ({ memoryId, vector: vectorToBytes(v) }))), o)) * 1.15);
  });

  it('loads from a COPY stream exactly the chunks a build from decoded rows holds, and searches alike', async () => {
    const dims = 20;
    let seed = 17;
    const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 4294967296) * 2 - 1;
    // Runs of one memory, memories coming back later, a short vector, a NULL vector.
    const ids = ['memory-b', 'memory-b', 'memory-a', 'memory-b', 'memory-c', 'memory-c', 'memory-c', 'memory-a', 'memory-é'];
    const rows = ids.map((memoryId) => ({ memoryId, vector: vectorToBytes(Float32Array.from({ length: dims }, rand)) }));
    rows.push({ memoryId: 'memory-d', vector: rows[0]!.vector.subarray(0, 12) });
    const tuples: (Uint8Array | null)[][] = [...rows.map((r) => [text(r.memoryId), r.vector]), [text('memory-null'), null]];
    const stream = copyStream(tuples);
    // Sized by a hint of the row count: none, too small, right, too large.
    for (const [quantizeFrom, hint] of [[0, 0], [1_000_000, 0], [0, 3], [0, rows.length], [1_000_000, rows.length * 3]] as const) {
      const o = { version: 1n, model: 'm', dimensions: dims, kernel: 'wasm' as const, quantizeFrom, wasmFrom: 0 };
      const loader = new MatrixLoader(o, hint);
      // Each piece is overwritten after its call, as the socket's receive buffers are reused.
      const db = {
        copyBinary: async (_: string, onData: (chunk: Uint8Array) => void) => {
          for (const piece of cut(stream, [3, 40, 41, 200, 333, 334])) {
            const reused = piece.slice();
            onData(reused);
            reused.fill(0xee);
          }
        },
      };
      await streamWorkspaceChunkVectors(db, 'w', 'm', dims, (memoryId, source, at, length) => loader.add(memoryId, source, at, length));
      const streamed = loader.finish();
      const built = buildMatrix(rows, o);
      const sorted = (m: typeof built) => Object.fromEntries([...matrixContents(m)].map(([id, v]) => [id, v.map((x) => Array.from(x).join(',')).sort()]));
      expect(sorted(streamed)).toEqual(sorted(built));
      expect(Object.keys(sorted(streamed)).sort()).toEqual(['memory-a', 'memory-b', 'memory-c', 'memory-d', 'memory-é']);
      expect(streamed.quantized !== null).toBe(quantizeFrom === 0);
      for (let i = 0; i < 5; i++) {
        const query = { workspaceIds: ['w'], vector: Float32Array.from({ length: dims }, rand), model: 'm', limit: 3, minScore: -1 };
        expect(searchMatrix(streamed, query)).toEqual(searchMatrix(built, query));
        expect(searchMatrix(streamed, query)).toEqual(searchMatrix(buildMatrix(rows, { ...o, kernel: 'js' }), query));
      }
    }
  });
});
