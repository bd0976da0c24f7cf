/**
 * Process entry point: config → database (migrated) → HTTP server → background jobs,
 * and a graceful shutdown on SIGTERM/SIGINT (stop accepting, let in-flight requests
 * finish within SHUTDOWN_GRACE, close the database).
 */
import './v8-flags.js';
import type { Server } from 'node:http';
import { createApp } from './app.js';
import type { AppDeps } from './app-deps.js';
import { createDeps, createLogger, packageVersion } from './bootstrap.js';
import { ConfigError, loadConfig } from './config/env.js';
import { DataDirInUseError } from './db/data-dir-lock.js';
import { Drain } from './http/drain.js';
import { createHttpServer } from './fast/http-server.js';
import { pruneExpiredTokens } from './services/auth/session.js';
import { sweepExpiredContent } from './services/settings/retention.js';
import { tracker } from './lib/background.js';

async function main() {
  let config;
  try {
    config = loadConfig(process.env, packageVersion);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const logger = createLogger(config);
  const steps = startupSteps();
  const deps = await createDeps(config, { logger });
  steps.done('database');
  const applied = await deps.db.migrate();
  steps.done('migrations');
  if (applied.length) logger.info({ applied }, 'migrations applied');
  // The parser processes start now, so the first documents need not wait for them.
  await deps.documentParser.start();
  steps.done('parsers');
  logger.info({ pids: await deps.documentParser.pids() }, 'document parser processes started');

  const app = createApp(deps);
  const drain = new Drain();
  const server = createHttpServer(app, drain.handler(app));
  server.listen(config.port, config.host);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  steps.done('listen');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ url: `http://${config.host}:${port}/api`, storage: deps.db.kind, version: config.version, startup: steps.report() }, 'Chimera API listening');

  deps.embeddings.start();
  deps.extractions.start();
  const timers = startMaintenance(deps);
  installShutdown(server, drain, deps, timers);
}

/**
 * Wall and CPU milliseconds of each start-up step, from the process's start (module loading
 * included in the first step); logged with "listening", so a slow start says where it went.
 */
function startupSteps() {
  const wallMs: Record<string, number> = { modules: Math.round(performance.now()) };
  const cpuMs = (usage: NodeJS.CpuUsage) => Math.round((usage.user + usage.system) / 1000);
  const cpu: Record<string, number> = { modules: cpuMs(process.cpuUsage()) };
  let lastWall = performance.now();
  let lastCpu = process.cpuUsage();
  return {
    done(step: string) {
      wallMs[step] = Math.round(performance.now() - lastWall);
      cpu[step] = cpuMs(process.cpuUsage(lastCpu));
      lastWall = performance.now();
      lastCpu = process.cpuUsage();
    },
    report: () => ({ wallMs, cpuMs: cpu, totalWallMs: Math.round(performance.now()), totalCpuMs: cpuMs(process.cpuUsage()) }),
  };
}

function startMaintenance(deps: AppDeps): NodeJS.Timeout[] {
  const track = tracker(deps.background);
  const run = (name: string, job: () => Promise<unknown>) => {
    let running = false; // a round that outlasts the interval is not joined by the next one
    return () => {
      if (running) return;
      running = true;
      track(job().catch((error) => deps.logger.warn({ err: error }, `${name} failed`)).finally(() => (running = false)));
    };
  };
  const hourly = setInterval(run('token pruning', () => pruneExpiredTokens(deps.prisma)), 3_600_000);
  hourly.unref();
  const sweep = async () => {
    const result = await sweepExpiredContent(deps.prisma);
    // With several instances only the one holding the lock sweeps; the others say so at debug level.
    if (!result.swept) deps.logger.debug('retention cleanup skipped: another instance is sweeping');
    else deps.logger.info({ conversations: result.conversations, memories: result.memories, messages: result.messages }, 'retention cleanup');
  };
  const retention = setInterval(run('retention cleanup', sweep), deps.config.retentionSweepIntervalMs);
  retention.unref();
  return [hourly, retention];
}

/** After the grace period, closing the pools and the embedder may take this long before the process exits anyway. */
const CLEANUP_MS = 2000;

function installShutdown(server: Server, drain: Drain, deps: AppDeps, timers: NodeJS.Timeout[]) {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    deps.logger.info({ signal, inFlight: drain.inFlight() }, 'shutting down');
    timers.forEach(clearInterval);
    drain.start();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const grace = setTimeout(() => {
      deps.logger.warn('grace period over; closing remaining connections');
      // Parses still running are given up rather than waited for; their requests get a 503
      // written before the connections close.
      void deps.documentParser.close();
      setImmediate(() => server.closeAllConnections());
      // Whatever still runs (a long background job, a pool that does not close) is abandoned:
      // the database rolls back its open transactions, the embedding backlog and the
      // extraction queue are durable.
      setTimeout(() => {
        deps.logger.error('shutdown cleanup did not finish in time; exiting');
        process.exit(1);
      }, CLEANUP_MS).unref();
    }, deps.config.shutdownGraceMs);
    grace.unref();
    await closed;
    await deps.documentParser.close();
    await deps.extractions.stop();
    await deps.embeddings.stop();
    await Promise.allSettled([...deps.background]);
    await deps.rateLimitStore.close();
    await deps.db.close();
    deps.logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error) => {
  // A data directory held by another process is an operator's mistake, not a crash: its message says it all.
  if (error instanceof DataDirInUseError) console.error(`Chimera API failed to start: ${error.message}`);
  else console.error('Chimera API failed to start:', error);
  process.exit(1);
});
