/**
 * Work that outlives the request or timer that started it (a key's last use, an embedding
 * round, maintenance): kept in one set until settled, so that shutdown waits for it
 * (server.ts) instead of closing the database under it.
 */
export type BackgroundWork = Set<Promise<unknown>>;

/** A function that keeps a promise in `work` until it settles. Rejections stay the caller's to handle. */
export function tracker(work: BackgroundWork): (p: Promise<unknown>) => void {
  return (p) => {
    work.add(p);
    // The settled copy only removes it; its rejection is p's own, handled (or reported) on p.
    p.finally(() => work.delete(p)).catch(() => {});
  };
}
