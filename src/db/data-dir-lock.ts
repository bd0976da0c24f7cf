/**
 * One server process per PGlite data directory. PGlite keeps no lock of its own: a second
 * process opening the same directory starts fine, and the two then overwrite each other's
 * pages and lose rows. The lock is a file next to the directory, created atomically and
 * naming its owner (pid and host), as PostgreSQL's postmaster.pid does. A lock whose owner is
 * gone (a crash, SIGKILL) is stale and taken over, so it never blocks the next start.
 */
import { linkSync, readFileSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * A lock written on another host (a container, a second machine on shared storage) cannot be
 * checked by pid; its owner touches it every HEARTBEAT_MS, so one untouched for STALE_MS is dead.
 */
const HEARTBEAT_MS = 10_000;
const STALE_MS = 3 * HEARTBEAT_MS;

interface Owner {
  pid: number;
  host: string;
  since: string;
}

export class DataDirInUseError extends Error {
  constructor(dir: string, lockFile: string, owner: Owner) {
    super(
      `The PGlite data directory ${dir} is in use by another Chimera API process (pid ${owner.pid} on ${owner.host}, since ${owner.since}). ` +
        'Stop that process first, or give this one another DATA_DIR; several instances can share a PostgreSQL database (DATABASE_URL). ' +
        `If no such process runs, remove ${lockFile}.`,
    );
    this.name = 'DataDirInUseError';
  }
}

export interface DataDirLock {
  file: string;
  release(): void;
}

function readOwner(file: string): (Owner & { touchedMs: number }) | null {
  try {
    const owner = JSON.parse(readFileSync(file, 'utf8')) as Partial<Owner>;
    if (!Number.isInteger(owner.pid) || owner.pid! <= 0 || typeof owner.host !== 'string') return null;
    return { pid: owner.pid!, host: owner.host, since: String(owner.since), touchedMs: statSync(file).mtimeMs };
  } catch {
    return null; // gone meanwhile, or not a lock we wrote: nobody to name
  }
}

/** Whether a process with this pid exists (EPERM: it does, owned by another user). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ownerAlive(owner: Owner & { touchedMs: number }): boolean {
  if (owner.host !== hostname()) return Date.now() - owner.touchedMs < STALE_MS;
  // Our own pid or our parent's is a leftover of an earlier run: a restarted container reuses its low pids.
  if (owner.pid === process.pid || owner.pid === process.ppid) return false;
  return processExists(owner.pid);
}

/** Lock files this process holds (a lock naming our pid is otherwise taken for a leftover). */
const held = new Map<string, Owner>();

/** Takes the lock of `dir`, or throws DataDirInUseError naming the directory and its owner. */
export function lockDataDir(dir: string): DataDirLock {
  const file = `${dir}.lock`;
  const ours = held.get(file);
  if (ours) throw new DataDirInUseError(dir, file, ours);
  const mine: Owner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  // Written in full first, then linked into place: link fails when the lock exists, and a
  // reader never sees a half-written lock.
  const draft = `${file}.${process.pid}.tmp`;
  writeFileSync(draft, JSON.stringify(mine), { mode: 0o600 });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(draft, file);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw error;
      }
      const owner = readOwner(file);
      if (owner && ownerAlive(owner)) throw new DataDirInUseError(dir, file, owner);
      try {
        unlinkSync(file); // stale: its owner is gone
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
  } finally {
    unlinkSync(draft);
  }

  held.set(file, mine);
  const heartbeat = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(file, now, now);
    } catch {
      /* removed by hand: nothing to refresh */
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  const release = () => {
    clearInterval(heartbeat);
    process.off('exit', release);
    if (held.get(file) === mine) held.delete(file);
    // Only our own: never a lock another process took over meanwhile.
    const owner = readOwner(file);
    if (owner?.pid !== mine.pid || owner.host !== mine.host || owner.since !== mine.since) return;
    try {
      unlinkSync(file);
    } catch {
      /* already gone */
    }
  };
  // An exit that skips the orderly close (process.exit when shutdown cleanup overruns) frees it too.
  process.on('exit', release);
  return { file, release };
}
