/**
 * The binary COPY encoder against the decoder, and through PGlite: rows copied in with
 * encodeCopyBinary read back equal (bytea, text, int4, NULL).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { decodeCopyBinary, encodeCopyBinary, type CopyField } from '../../src/db/copy-binary.js';

/** Split in two at an arbitrary point (the decoder joins chunks), each piece overwritten after its call. */
function once(data: Uint8Array) {
  const cut = Math.floor(data.length / 3);
  return async (onData: (chunk: Uint8Array) => void) => {
    for (const piece of [data.slice(0, cut), data.slice(cut)]) {
      onData(piece);
      piece.fill(0xee);
    }
  };
}

describe('binary COPY encoding', () => {
  it('decodes to the rows encoded', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }), { minLength: 1, maxLength: 4 }), { maxLength: 20 }), async (rows) => {
        const back: CopyField[][] = [];
        await decodeCopyBinary(once(encodeCopyBinary(rows)), (fields) => back.push(fields.map((f) => (f ? Uint8Array.from(f) : null))));
        expect(back).toEqual(rows.map((r) => r.map((f) => (f ? Uint8Array.from(f) : null))));
      }),
      { numRuns: 50 },
    );
  });

  it('is what PGlite copies in', async () => {
    const db = await openDatabase({ kind: 'pglite', dir: null });
    try {
      await db.query('CREATE TABLE t (b bytea, s text, n int4)');
      const int4 = (v: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setInt32(0, v); return b; };
      await db.copyIn!('t', ['b', 's', 'n'], encodeCopyBinary([[Uint8Array.of(0, 255, 7), new TextEncoder().encode('été'), int4(-5)], [null, null, int4(7)]]));
      const rows = await db.query<{ b: Uint8Array | null; s: string | null; n: number }>('SELECT b, s, n FROM t ORDER BY n');
      expect(rows.map((r) => ({ b: r.b ? Array.from(r.b) : null, s: r.s, n: r.n }))).toEqual([{ b: [0, 255, 7], s: 'été', n: -5 }, { b: null, s: null, n: 7 }]);
    } finally {
      await db.close();
    }
  });
});
