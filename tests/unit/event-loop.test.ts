/** The event-loop monitor behind /api/health's eventLoop component measures real blocking. */
import { afterEach, describe, expect, it } from 'vitest';
import { EventLoopMonitor } from '../../src/services/event-loop.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
function blockFor(ms: number) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    /* keep the loop busy */
  }
}

describe('event-loop monitor', () => {
  let monitor: EventLoopMonitor | undefined;
  afterEach(() => monitor?.stop());

  it('reports a blocked loop in the window that contains the block, and a quiet loop in the next', async () => {
    monitor = new EventLoopMonitor(400, 5);
    await sleep(50);
    blockFor(200);
    await sleep(450); // the window holding the block has closed
    const blocked = monitor.report();
    expect(blocked.windowSeconds).toBeGreaterThan(0.3);
    expect(blocked.delayMs.max).toBeGreaterThanOrEqual(150);
    expect(blocked.delayMs.max).toBeGreaterThanOrEqual(blocked.delayMs.p99);
    expect(blocked.delayMs.p99).toBeGreaterThanOrEqual(blocked.delayMs.p50);
    expect(blocked.utilization).toBeGreaterThan(0.3);

    await sleep(400); // a window with nothing but idle timers
    const quiet = monitor.report();
    expect(quiet.delayMs.max).toBeLessThan(blocked.delayMs.max);
    expect(quiet.utilization).toBeLessThan(blocked.utilization);
  });

  it('answers before the first window closes, from the time since start', () => {
    monitor = new EventLoopMonitor(60_000);
    const report = monitor.health();
    expect(report).toMatchObject({ status: 'ok', windowSeconds: expect.any(Number), utilization: expect.any(Number) });
    expect(Object.keys(report.delayMs as object).sort()).toEqual(['max', 'mean', 'p50', 'p99']);
  });
});
