/**
 * src/fast/gzip-pieces.ts: pieces deflated apart and assembled into one gzip member must
 * decompress (with node's zlib, strict about the trailer) to exactly the concatenated text,
 * and the combined CRC-32 must equal zlib's CRC of the whole text.
 */
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32Combine, deflatePiece, deflatePieceSync, gzipOf } from '../../src/fast/gzip-pieces.js';

describe('gzip pieces', () => {
  it('the combined CRC equals the CRC of the concatenation', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.uint8Array({ maxLength: 3000 }), (a, b) => {
        const whole = Buffer.concat([a, b]);
        expect(crc32Combine(zlib.crc32(a), zlib.crc32(b), b.length)).toBe(zlib.crc32(whole));
      }),
      { numRuns: 300 },
    );
  });

  it('gunzips to the concatenated text, whatever the pieces', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.string({ maxLength: 2000 }), fc.string({ unit: 'grapheme', maxLength: 300 })), { maxLength: 12 }), fc.integer({ min: 1, max: 9 }), async (texts, level) => {
        const pieces = await Promise.all(texts.map((t, i) => (i % 2 ? deflatePiece(t, level) : Promise.resolve(deflatePieceSync(t, level)))));
        const body = Buffer.concat(gzipOf(pieces));
        expect(zlib.gunzipSync(body).toString('utf8')).toBe(texts.join(''));
      }),
      { numRuns: 150 },
    );
  });

  it('a large text in pieces compresses within a few per cent of one pass', async () => {
    const words = Array.from({ length: 200_000 }, (_, i) => `word${(i * 7919) % 5000}`);
    const pieces = [];
    for (let i = 0; i < words.length; i += 8000) pieces.push(await deflatePiece(words.slice(i, i + 8000).join(' ') + ' '));
    const assembled = Buffer.concat(gzipOf(pieces));
    const whole = zlib.gzipSync(Buffer.from(words.map((w) => `${w} `).join('')));
    expect(zlib.gunzipSync(assembled).toString()).toBe(words.map((w) => `${w} `).join(''));
    expect(assembled.length).toBeLessThan(whole.length * 1.05);
  });
});
