/**
 * Event-loop delay of this process, for the health report: how late timers fire, i.e. how long
 * a request that arrives now waits before JavaScript gets to it. perf_hooks samples it in C++;
 * the histogram is read and reset once per window, so the report describes the last complete
 * window (or the time since start while the first one runs), never the whole uptime.
 */
import { type IntervalHistogram, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { ComponentReport } from './health.js';

export interface EventLoopWindow {
  /** Length of the window the figures describe, in seconds. */
  windowSeconds: number;
  /** How late the loop ran a timer, in milliseconds (0 = on time). */
  delayMs: { mean: number; p50: number; p99: number; max: number };
  /** Share of the window the loop spent running code rather than waiting for I/O (0–1). */
  utilization: number;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

export class EventLoopMonitor {
  private readonly histogram: IntervalHistogram;
  private readonly timer: NodeJS.Timeout;
  private windowStarted = performance.now();
  private elu = performance.eventLoopUtilization();
  private last: EventLoopWindow | null = null;

  constructor(
    readonly windowMs = 10_000,
    private readonly resolutionMs = 10,
  ) {
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.histogram.enable();
    this.timer = setInterval(() => {
      this.last = this.current();
      this.histogram.reset();
      this.windowStarted = performance.now();
      this.elu = performance.eventLoopUtilization();
    }, windowMs);
    this.timer.unref();
  }

  /**
   * The histogram records the time between two ticks of its own timer, so an idle loop reads
   * as the resolution; the lateness is what lies beyond it.
   */
  private late(ns: number): number {
    return this.histogram.count === 0 || !Number.isFinite(ns) ? 0 : round(Math.max(0, ns / 1e6 - this.resolutionMs));
  }

  /** The figures since the current window began. */
  private current(): EventLoopWindow {
    const h = this.histogram;
    return {
      windowSeconds: round((performance.now() - this.windowStarted) / 1000),
      delayMs: { mean: this.late(h.mean), p50: this.late(h.percentile(50)), p99: this.late(h.percentile(99)), max: this.late(h.max) },
      utilization: round(performance.eventLoopUtilization(this.elu).utilization),
    };
  }

  /** The last complete window, or the running one before the first completes. */
  report(): EventLoopWindow {
    return this.last ?? this.current();
  }

  health(): ComponentReport {
    return { status: 'ok', ...this.report() };
  }

  stop(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }
}

let shared: EventLoopMonitor | undefined;

/** One monitor per process: the event loop is the process's, whichever app instance asks. */
export function processEventLoop(): EventLoopMonitor {
  shared ??= new EventLoopMonitor();
  return shared;
}
