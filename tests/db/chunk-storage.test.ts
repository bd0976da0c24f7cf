import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replaceChunks } from '../../src/data/memory-chunks.js';
import { vectorToBytes } from '../../src/lib/vectors.js';
import { createTestDatabase, storages, type TestDatabase } from '../support/db.js';
import { prng, unit } from '../support/vectors.js';

const WORDS = 'the memory bank search vector query index rocket launch moon pizza music guitar weather python database project meeting notes alpha'.split(' ');
const CHUNKS = 60;
const DIMS = 384;

describe.each(storages())('chunk rows (%s)', (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await t.drop();
  });

  it('keep a chunk’s vector in the row when its text is long; the text goes to TOAST', async () => {
    const rand = prng(11);
    const { prisma } = t.db;
    const owner = await prisma.user.create({ data: { email: `storage-${kind}@test.local`, name: 'S', passwordHash: 'x' } });
    const ws = await prisma.workspace.create({ data: { id: `workspace-storage-${kind}`, name: 'S', ownerId: owner.id } });
    const ids = Array.from({ length: CHUNKS }, (_, i) => `${ws.id}-m${i}`);
    await prisma.memory.createMany({ data: ids.map((id) => ({ id, workspaceId: ws.id, title: 't', content: 'c' })) });
    // 256 tokens of text: about 1,400 characters that compress to about a third.
    const text = () => Array.from({ length: 220 }, () => `${WORDS[Math.floor(rand() * WORDS.length)]}${Math.floor(rand() * 7)}`).join(' ');
    const vectors = ids.map(() => unit(rand, DIMS));
    await replaceChunks(prisma, ids, ids.map((memoryId, i) => ({ memoryId, workspaceId: ws.id, chunkIndex: 0, content: text(), vector: vectorToBytes(vectors[i]!), dimensions: DIMS, model: 'm' })));

    const [table] = await t.db.query<{ toast: string }>("SELECT reltoastrelid::regclass::text AS toast FROM pg_class WHERE relname = 'memory_chunks'");
    const [{ bytes }] = (await t.db.query<{ bytes: number }>(`SELECT coalesce(sum(octet_length(chunk_data)), 0)::int AS bytes FROM ${table!.toast}`)) as [{ bytes: number }];
    // Out of line, the vectors alone would take CHUNKS × 1,536 bytes there; the texts, compressed, take less.
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(CHUNKS * DIMS * 4);
    const back = await t.db.query<{ vector: Uint8Array }>('SELECT vector FROM memory_chunks WHERE memory_id = $1', [ids[7]]);
    expect(Buffer.from(back[0]!.vector).equals(Buffer.from(vectorToBytes(vectors[7]!)))).toBe(true);
  });
});
