/**
 * A value read from somewhere slow (a database count), kept briefly so that frequent readers
 * (a health check polled every few milliseconds) neither repeat the read nor wait for it:
 * - younger than `freshMs`, it is answered as it is;
 * - up to `staleMs`, it is answered as it is while one read in the background renews it;
 * - older, missing, or `forget()`-ten (the caller changed what it counts), the caller waits for a
 *   read. Readers meanwhile share that one read; a failed read is not kept, so the next caller
 *   waits for its own and sees the failure.
 * A value asked for with a different key (e.g. the model the count is for) is read anew.
 */
export class RecentValue<T, Key = undefined> {
  private value: { key: Key; at: number; value: T } | null = null;
  private reading: { key: Key; promise: Promise<T> } | null = null;
  /** Bumped by forget(): a read that started before must not store what it found. */
  private generation = 0;

  constructor(
    private readonly read: (key: Key) => Promise<T>,
    private readonly freshMs: number,
    private readonly staleMs: number,
  ) {}

  get(key: Key): Promise<T> {
    const kept = this.value;
    const age = kept && kept.key === key ? performance.now() - kept.at : Infinity;
    if (age < this.freshMs) return Promise.resolve(kept!.value);
    const reading = this.reading?.key === key ? this.reading.promise : this.start(key);
    if (age < this.staleMs) {
      reading.catch(() => undefined); // the next caller waits and sees it
      return Promise.resolve(kept!.value);
    }
    return reading;
  }

  /** What was kept no longer holds: the next caller waits for a new read. */
  forget(): void {
    this.generation++;
    this.value = null;
    this.reading = null;
  }

  private start(key: Key): Promise<T> {
    const generation = this.generation;
    const promise = this.read(key).then(
      (value) => {
        if (generation === this.generation) this.value = { key, at: performance.now(), value };
        return value;
      },
      (error: unknown) => {
        if (generation === this.generation) this.value = null;
        throw error;
      },
    );
    const reading = { key, promise };
    this.reading = reading;
    const done = () => {
      if (this.reading === reading) this.reading = null;
    };
    promise.then(done, done);
    return promise;
  }
}
