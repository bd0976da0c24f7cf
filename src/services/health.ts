/**
 * Health report (D23): status, version, uptime, database reachability and latency, plus
 * whatever other components register (the embedding model, its backlog, …).
 */
import type { Database } from '../db/client.js';

export type ComponentReport = Record<string, unknown> & { status: string };

export class HealthRegistry {
  private readonly components = new Map<string, () => Promise<ComponentReport> | ComponentReport>();
  private readonly startedAt = Date.now();

  constructor(
    private readonly db: Database,
    private readonly version: string,
  ) {}

  /** Adds a component to the report; it never makes the whole check fail (only the database does). */
  register(name: string, report: () => Promise<ComponentReport> | ComponentReport): void {
    this.components.set(name, report);
  }

  async report(): Promise<{ healthy: boolean; body: Record<string, unknown> }> {
    let database: string;
    let latencyMs: number | null = null;
    let healthy = true;
    try {
      latencyMs = await withTimeout(this.db.ping(), 3000);
      database = 'connected';
    } catch (error) {
      healthy = false;
      database = `error: ${(error as Error).message.slice(0, 200)}`;
    }
    const extra: Record<string, unknown> = {};
    for (const [name, fn] of this.components) {
      try {
        extra[name] = await fn();
      } catch (error) {
        extra[name] = { status: 'error', reason: (error as Error).message };
      }
    }
    return {
      healthy,
      body: {
        status: healthy ? 'healthy' : 'unhealthy',
        timestamp: new Date().toISOString(),
        version: this.version,
        uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
        database,
        databaseLatencyMs: latencyMs,
        storage: this.db.kind,
        ...extra,
      },
    };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
