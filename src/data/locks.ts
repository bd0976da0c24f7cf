/** Advisory locks: cluster-wide mutual exclusion for background jobs that several instances run. */
import type { Db } from './sql.js';

/** An arbitrary constant naming the retention sweep's advisory lock. */
const SWEEP_LOCK = 0x43_68_69_6d_52_65_74n; // "ChimRet"

/**
 * Takes the retention sweep's transaction-level lock unless another transaction holds it.
 * Raw: advisory locks. (PGlite is single-process; the lock is harmless there.)
 */
export async function tryRetentionSweepLock(tx: Db): Promise<boolean> {
  const rows = await tx.$queryRaw<{ locked: boolean }[]>`SELECT pg_try_advisory_xact_lock(${SWEEP_LOCK}::bigint) AS locked`;
  return rows[0]?.locked === true;
}
