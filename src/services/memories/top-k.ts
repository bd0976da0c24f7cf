/**
 * The best k of a stream of (score, id) pairs without sorting the stream: a binary min-heap
 * in typed arrays. Order is score descending, then id ascending (or `tieOrder`'s order), so
 * the kept set and its order do not depend on the order of pushes (ties included).
 */
export class TopK {
  private readonly scores: Float64Array;
  private readonly ids: Int32Array;
  private size = 0;

  constructor(
    readonly capacity: number,
    private readonly tieOrder: (a: number, b: number) => number = (a, b) => a - b,
  ) {
    this.scores = new Float64Array(Math.max(0, capacity));
    this.ids = new Int32Array(Math.max(0, capacity));
  }

  /** The score an item must beat (or tie with a lower id) to enter; −∞ until full. */
  get floor(): number {
    return this.size < this.capacity ? -Infinity : this.scores[0]!;
  }

  get length(): number {
    return this.size;
  }

  /** Offers an item; NaN scores are ignored. */
  push(score: number, id: number): void {
    if (this.capacity <= 0 || Number.isNaN(score)) return;
    if (this.size < this.capacity) {
      this.scores[this.size] = score;
      this.ids[this.size] = id;
      this.up(this.size++);
    } else if (this.worse(0, score, id)) {
      this.scores[0] = score;
      this.ids[0] = id;
      this.down(0);
    }
  }

  /** The kept items, best first. */
  sorted(): { id: number; score: number }[] {
    const out = Array.from({ length: this.size }, (_, i) => ({ id: this.ids[i]!, score: this.scores[i]! }));
    return out.sort((a, b) => b.score - a.score || this.tieOrder(a.id, b.id));
  }

  /** Whether the item at heap slot i ranks below (score, id). */
  private worse(i: number, score: number, id: number): boolean {
    const s = this.scores[i]!;
    return s < score || (s === score && this.tieOrder(this.ids[i]!, id) > 0);
  }

  private swap(i: number, j: number): void {
    const s = this.scores[i]!;
    this.scores[i] = this.scores[j]!;
    this.scores[j] = s;
    const id = this.ids[i]!;
    this.ids[i] = this.ids[j]!;
    this.ids[j] = id;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.worse(i, this.scores[parent]!, this.ids[parent]!)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let worst = i;
      if (l < this.size && this.worse(l, this.scores[worst]!, this.ids[worst]!)) worst = l;
      if (r < this.size && this.worse(r, this.scores[worst]!, this.ids[worst]!)) worst = r;
      if (worst === i) return;
      this.swap(i, worst);
      i = worst;
    }
  }
}
