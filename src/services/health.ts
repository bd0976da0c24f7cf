/**
 * Health report (D23): status, version, uptime, database reachability and latency, plus
 * whatever other components register (the embedding model, its backlog, …). Public, so it
 * says what is wrong but never where on disk.
 */
import type { Database } from '../db/client.js';
import { redactPaths } from '../lib/redact-paths.js';

export type ComponentReport = Record<string, unknown> & { status: string };

export class HealthRegistry {
  private readonly components = new Map<string, () => Promise<ComponentReport> | ComponentReport>();
  private readonly startedAt = Date.now();

  constructor(
    private readonly db: Database,
    private readonly version: string,
    /** Deadline of the database ping and of each component (DATABASE_TIMEOUT_MS): health never hangs. */
    private readonly timeoutMs = 3000,
  ) {}

  /** Adds a component to the report; it never makes the whole check fail (only the database does). */
  register(name: string, report: () => Promise<ComponentReport> | ComponentReport): void {
    this.components.set(name, report);
  }

  async report(): Promise<{ healthy: boolean; body: Record<string, unknown> }> {
    // The ping and the components run side by side, each under the deadline.
    const [ping, ...reports] = await Promise.allSettled([
      withTimeout(this.db.ping(), this.timeoutMs),
      ...[...this.components.values()].map((fn) => withTimeout(Promise.resolve().then(fn), this.timeoutMs)),
    ]);
    const healthy = ping!.status === 'fulfilled';
    const extra: Record<string, unknown> = {};
    [...this.components.keys()].forEach((name, i) => {
      const r = reports[i]!;
      extra[name] = withoutPaths(r.status === 'fulfilled' ? r.value : { status: 'error', reason: (r.reason as Error).message });
    });
    return {
      healthy,
      body: {
        status: healthy ? 'healthy' : 'unhealthy',
        timestamp: new Date().toISOString(),
        version: this.version,
        uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
        database: ping!.status === 'fulfilled' ? 'connected' : `error: ${redactPaths((ping!.reason as Error).message).slice(0, 200)}`,
        databaseLatencyMs: ping!.status === 'fulfilled' ? ping!.value : null,
        storage: this.db.kind,
        ...extra,
      },
    };
  }
}

/** The report is public: texts from components and errors lose any filesystem path (the log keeps them). */
function withoutPaths(value: unknown): unknown {
  if (typeof value === 'string') return redactPaths(value);
  if (Array.isArray(value)) return value.map(withoutPaths);
  if (value && Object.getPrototypeOf(value) === Object.prototype) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutPaths(v)]));
  return value;
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
