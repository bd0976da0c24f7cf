/**
 * Neural load (D3, §5.2): 24 points five minutes apart ending now, read from the stored
 * snapshots that record-load writes (one per workspace and 5-minute bucket).
 */
import { loadSnapshotsSince, pruneLoadSnapshots, storeLoadSnapshot } from '../data/system-load.js';
import type { Db } from '../data/sql.js';
import type { PrismaClient } from '../db/client.js';
import { workspaceStats } from './workspace-stats.js';

export const POINTS = 24;
export const STEP_MS = 5 * 60 * 1000;
const WINDOW_MS = 120 * 60 * 1000;
const RETENTION_MS = 24 * 60 * 60 * 1000;

export interface LoadPoint {
  timestamp: string;
  value: number;
}

/**
 * Point i targets now − (23 − i) × 5 min and takes the closest snapshot strictly less than
 * 5 minutes away; without one it repeats the previous value (the first point: the current load).
 */
export function loadSeries(snapshots: { timestamp: Date; value: number }[], currentLoad: number, now: Date): LoadPoint[] {
  const points: LoadPoint[] = [];
  let previous = currentLoad;
  for (let i = 0; i < POINTS; i++) {
    const target = now.getTime() - (POINTS - 1 - i) * STEP_MS;
    let best: { distance: number; value: number } | null = null;
    for (const s of snapshots) {
      const distance = Math.abs(s.timestamp.getTime() - target);
      if (distance < STEP_MS && (!best || distance < best.distance)) best = { distance, value: s.value };
    }
    const value = snapshots.length === 0 ? currentLoad : (best?.value ?? previous);
    points.push({ timestamp: new Date(target).toISOString(), value });
    previous = value;
  }
  return points;
}

export async function neuralLoad(db: Db, workspaceId: string, currentLoad: number, now = new Date()): Promise<LoadPoint[]> {
  const snapshots = await loadSnapshotsSince(db, workspaceId, new Date(now.getTime() - WINDOW_MS));
  return loadSeries(snapshots, currentLoad, now);
}

export const bucketOf = (at: Date) => new Date(Math.floor(at.getTime() / STEP_MS) * STEP_MS);

/**
 * W10: stores the current load in this 5-minute bucket (a repeat within the bucket
 * refreshes the same row, so concurrent calls never duplicate), then prunes >24 h.
 */
export async function recordLoad(db: PrismaClient, workspaceId: string, now = new Date()): Promise<number> {
  const { systemLoad } = await workspaceStats(db, workspaceId, now);
  await db.$transaction(async (tx) => {
    await storeLoadSnapshot(tx, { workspaceId, bucket: bucketOf(now), value: systemLoad, timestamp: now });
    await pruneLoadSnapshots(tx, workspaceId, new Date(now.getTime() - RETENTION_MS));
  });
  return systemLoad;
}
