/** Seeded random unit vectors for the vector index tests. */

/** A deterministic generator of numbers in [0, 1). */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 4294967296;
  };
}

/** A random unit vector of `dims` dimensions. */
export function unit(rand: () => number, dims: number): Float32Array {
  const v = Float32Array.from({ length: dims }, () => rand() * 2 - 1);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}
