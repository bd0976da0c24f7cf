/**
 * JSON written as it is produced: an object whose arrays come page by page is serialised
 * straight to a stream (honouring backpressure), so memory use stays flat whatever its
 * size. The output is byte-for-byte what `JSON.stringify(document, null, 2)` would give.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';

/** A value produced while writing (a paginated array) instead of one held in memory. */
export class Streamed {
  constructor(readonly write: (out: JsonWriter, depth: number) => Promise<void>) {}
}

/** An object's entries in order; a value may be Streamed. */
export type Entries = [string, unknown][];

/** Output is gathered into ~64 KB writes: one socket write per JSON fragment would be slow. */
const FLUSH_AT = 64 * 1024;

const pad = (depth: number) => '  '.repeat(depth);

class JsonWriter {
  private pending = '';

  constructor(private readonly out: Writable) {}

  async raw(text: string): Promise<void> {
    this.pending += text;
    if (this.pending.length >= FLUSH_AT) await this.flush();
  }

  async flush(): Promise<void> {
    if (!this.pending) return;
    const chunk = this.pending;
    this.pending = '';
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }

  async value(value: unknown, depth: number): Promise<void> {
    if (value instanceof Streamed) return value.write(this, depth);
    await this.raw(JSON.stringify(value, null, 2).replace(/\n/g, `\n${pad(depth)}`));
  }

  async object(entries: Entries, depth: number): Promise<void> {
    await this.raw('{');
    for (const [i, [key, value]] of entries.entries()) {
      await this.raw(`${i ? ',' : ''}\n${pad(depth + 1)}${JSON.stringify(key)}: `);
      await this.value(value, depth + 1);
    }
    await this.raw(entries.length ? `\n${pad(depth)}}` : '}');
  }
}

/** An array whose items come page by page; an item is an object that may itself have streamed parts. */
export function streamedArray<T>(pages: AsyncIterable<T[]>, render: (item: T) => Entries): Streamed {
  return new Streamed(async (out, depth) => {
    await out.raw('[');
    let n = 0;
    for await (const page of pages) {
      for (const item of page) {
        await out.raw(`${n++ ? ',' : ''}\n${pad(depth + 1)}`);
        await out.object(render(item), depth + 1);
      }
    }
    await out.raw(n ? `\n${pad(depth)}]` : ']');
  });
}

/** Writes the object with 2-space indentation to `out` (which the caller ends). */
export async function writeJson(out: Writable, entries: Entries): Promise<void> {
  const writer = new JsonWriter(out);
  await writer.object(entries, 0);
  await writer.flush();
}
