/**
 * COPY … TO STDOUT read off the connection's socket (copy-out.ts): the message parser hands out
 * exactly the CopyData payloads however the backend's bytes are cut and whatever other messages
 * come between them; against PostgreSQL, the binary COPY of a workspace's chunks decodes to the
 * rows a plain query returns, on the reused-buffer socket and on an ordinary one, errors reject
 * with PostgreSQL's message, and the connection serves queries again afterwards.
 */
import fc from 'fast-check';
import pg from 'pg';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCopyBinary } from '../../src/db/copy-binary.js';
import { CopyOutError, CopyOutParser, CopyOutSocket, copyOutOnSocket } from '../../src/db/copy-out.js';
import { createScratchPostgres } from '../support/db.js';

/** A backend message: type byte, int32 length (itself included), payload. */
function message(type: string, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  out[0] = type.charCodeAt(0);
  new DataView(out.buffer).setInt32(1, 4 + payload.length);
  out.set(payload, 5);
  return out;
}
const text = (s: string) => new TextEncoder().encode(`${s}\0`);
const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** Feeds `stream` cut at `cuts` (each piece a fresh copy, as received), returning what onData saw. */
function feed(stream: Uint8Array, cuts: number[]) {
  const seen: Uint8Array[] = [];
  const parser = new CopyOutParser((chunk) => seen.push(chunk.slice()));
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  const endedAt: number[] = [];
  for (const to of [...points, stream.length]) {
    if (to === from) continue;
    if (parser.feed(stream.slice(from, to))) endedAt.push(to);
    from = to;
  }
  return { data: concat(seen), parser, endedAt };
}

describe('COPY out message parser', () => {
  it('hands out exactly the CopyData payloads, however the stream is cut and whatever comes between', () => {
    const other = fc.oneof(
      fc.constant(message('N', concat([text('SNOTICE'), text('Mhello'), new Uint8Array([0])]))),
      fc.constant(message('S', concat([text('application_name'), text('x')]))),
    );
    const data = fc.uint8Array({ maxLength: 300 }).map((p) => ({ payload: p, bytes: message('d', p) }));
    fc.assert(
      fc.property(fc.array(fc.oneof({ arbitrary: data, weight: 5 }, { arbitrary: other.map((bytes) => ({ payload: null, bytes })), weight: 1 }), { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 12 }), (messages, cuts) => {
        const stream = concat([message('H', new Uint8Array([1, 0, 0])), ...messages.map((m) => m.bytes), message('c'), message('C', text('COPY 3')), message('Z', new Uint8Array([0x49]))]);
        const { data: seen, parser, endedAt } = feed(stream, cuts);
        expect(seen).toEqual(concat(messages.flatMap((m) => (m.payload ? [m.payload] : []))));
        expect(parser.error).toBeNull();
        expect(endedAt).toEqual([stream.length]);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps an ErrorResponse and ends at the ReadyForQuery after it', () => {
    const error = message('E', concat([text('SERROR'), text('C42P01'), text('Mrelation "nope" does not exist'), new Uint8Array([0])]));
    const stream = concat([error, message('Z', new Uint8Array([0x49]))]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const { parser, endedAt } = feed(stream, [cut]);
      expect(parser.error).toBeInstanceOf(CopyOutError);
      expect(parser.error).toMatchObject({ message: 'relation "nope" does not exist', code: '42P01' });
      expect(endedAt).toEqual([stream.length]);
    }
  });
});

describe('COPY out against PostgreSQL', () => {
  let scratch: Awaited<ReturnType<typeof createScratchPostgres>>;
  beforeAll(async () => {
    scratch = await createScratchPostgres();
    const c = new pg.Client({ connectionString: scratch.url });
    await c.connect();
    // About 5 MB: many socket reads, rows split between them.
    await c.query(`CREATE TABLE rows AS SELECT g AS id, 'row-' || g AS name, decode(repeat(lpad(to_hex(g % 256), 2, '0'), 1536), 'hex') AS vector FROM generate_series(1, 3000) g`);
    await c.end();
  });
  afterAll(() => scratch?.drop());

  const statement = 'COPY (SELECT id, name, vector FROM rows ORDER BY id) TO STDOUT (FORMAT binary)';

  for (const kind of ['reused-buffer socket', 'ordinary socket'] as const) {
    it(`decodes to the rows a plain query returns, and the connection serves queries again (${kind})`, async () => {
      const client = new pg.Client({ connectionString: scratch.url, ...(kind === 'reused-buffer socket' ? { stream: () => new CopyOutSocket() } : {}) });
      await client.connect();
      try {
        const stream = (client as unknown as { connection: { stream: Duplex } }).connection.stream;
        expect(stream instanceof CopyOutSocket).toBe(kind === 'reused-buffer socket');
        const copied: [number, string, string][] = [];
        await decodeCopyBinary(
          (onData) => copyOutOnSocket(stream, statement, onData),
          ([id, name, vector]) => copied.push([new DataView(id!.buffer, id!.byteOffset).getInt32(0), new TextDecoder().decode(name!), Buffer.from(vector!).toString('hex')]),
        );
        const plain = (await client.query<{ id: number; name: string; vector: Buffer }>('SELECT id, name, vector FROM rows ORDER BY id')).rows;
        expect(copied).toHaveLength(3000);
        expect(copied).toEqual(plain.map((r) => [r.id, r.name, r.vector.toString('hex')]));
        await expect(copyOutOnSocket(stream, 'COPY (SELECT * FROM nope) TO STDOUT (FORMAT binary)', () => {})).rejects.toMatchObject({ name: 'CopyOutError', code: '42P01', message: 'relation "nope" does not exist' });
        expect((await client.query('SELECT 41 + 1 AS n')).rows).toEqual([{ n: 42 }]);
      } finally {
        await client.end();
      }
    });
  }
});
