import { describe, expect, it } from 'vitest';
import { RecentValue } from '../../src/lib/recent-value.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A read that counts its calls and answers what `next` holds when it is called, after `ms`. */
function source(ms = 0) {
  const state = { calls: 0, next: 1 as number | Error };
  const read = async (key: string) => {
    state.calls++;
    const answer = state.next;
    await sleep(ms);
    if (answer instanceof Error) throw answer;
    return `${key}:${answer}`;
  };
  return { state, read };
}

describe('RecentValue (the health report’s backlog count)', () => {
  it('answers a fresh value without reading; readers waiting for a read share it', async () => {
    const { state, read } = source(20);
    const value = new RecentValue(read, 1000, 5000);
    expect(await Promise.all([value.get('m'), value.get('m'), value.get('m')])).toEqual(['m:1', 'm:1', 'm:1']);
    state.next = 2;
    expect(await value.get('m')).toBe('m:1');
    expect(state.calls).toBe(1);
  });

  it('past freshMs answers the kept value at once and renews it in the background; past staleMs waits', async () => {
    const { state, read } = source(20);
    const value = new RecentValue(read, 50, 1000);
    await value.get('m');
    state.next = 2;
    await sleep(80);
    expect(await value.get('m')).toBe('m:1');
    // Readers meanwhile get the kept value and share the one renewal.
    while ((await value.get('m')) === 'm:1') await sleep(5);
    expect(state.calls).toBe(2);
    state.next = 3;
    await sleep(1100);
    expect(await value.get('m')).toBe('m:3');
  });

  it('forget() makes the next caller wait for a new read, and drops what a read started before finds', async () => {
    const { state, read } = source(30);
    const value = new RecentValue(read, 10_000, 10_000);
    const before = value.get('m');
    value.forget();
    state.next = 2;
    expect(await before).toBe('m:1');
    expect(await value.get('m')).toBe('m:2');
  });

  it('another key is read anew; a failed read is not kept, so the next caller sees the failure', async () => {
    const { state, read } = source();
    const value = new RecentValue(read, 10_000, 10_000);
    expect(await value.get('a')).toBe('a:1');
    expect(await value.get('b')).toBe('b:1');
    value.forget();
    state.next = new Error('database down');
    await expect(value.get('b')).rejects.toThrow('database down');
    await expect(value.get('b')).rejects.toThrow('database down');
    state.next = 4;
    expect(await value.get('b')).toBe('b:4');
  });
});
