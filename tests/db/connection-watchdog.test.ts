/**
 * A PostgreSQL that stops answering without closing its connections (a frozen host, a network
 * partition — here a TCP proxy that forwards nothing) must not hold queries until the long query
 * timeout: they fail after about DATABASE_TIMEOUT_MS, health says so within it, and the pool works
 * again once the database answers. A query that is merely slow on a live database is left alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { HealthRegistry } from '../../src/services/health.js';
import { adminUrl } from '../support/db.js';
import { pgTarget, startTcpProxy, type TcpProxy } from '../support/processes.js';

const TIMEOUT_MS = 500;

describe('connection watchdog (PostgreSQL through a proxy)', () => {
  let proxy: TcpProxy;
  let db: Database;
  beforeAll(async () => {
    proxy = await startTcpProxy(pgTarget(adminUrl()));
    const url = new URL(adminUrl());
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    db = await openDatabase({ kind: 'postgres', url: url.toString(), poolSize: 3, timeoutMs: TIMEOUT_MS });
  });
  afterAll(async () => {
    proxy.restore();
    await db.close();
    await proxy.close();
  });

  it('leaves a slow query on a live database alone', async () => {
    const rows = await db.query<{ ok: number }>('SELECT 1 AS ok FROM pg_sleep($1)', [(TIMEOUT_MS * 3) / 1000]);
    expect(rows).toEqual([{ ok: 1 }]);
  });

  it('fails queries on a silent database after about the timeout, reports it in health, and recovers', async () => {
    await db.query('SELECT 1'); // a pooled connection exists and is idle
    const health = new HealthRegistry(db, 'test', TIMEOUT_MS);
    // A component that waits on the database too must not hold the report.
    health.register('backlog', async () => ({ status: 'ok', size: (await db.prisma.memory.count().catch(() => -1)) }));
    proxy.cut('blackhole');
    try {
      let started = performance.now();
      await expect(db.query('SELECT 1')).rejects.toThrow(/Connection terminated/);
      expect(performance.now() - started).toBeLessThan(TIMEOUT_MS * 6);

      started = performance.now();
      await expect(db.prisma.$queryRaw`SELECT 2`).rejects.toThrow();
      expect(performance.now() - started).toBeLessThan(TIMEOUT_MS * 6);

      started = performance.now();
      const report = await health.report();
      expect(performance.now() - started).toBeLessThan(TIMEOUT_MS * 3);
      expect(report.healthy).toBe(false);
      expect(report.body.database).toMatch(/^error: /);
      expect(report.body.backlog).toMatchObject({ status: 'error', reason: expect.stringMatching(/no answer within/) });
    } finally {
      proxy.restore();
    }
    expect(await db.query('SELECT 3 AS x')).toEqual([{ x: 3 }]);
    expect((await health.report()).healthy).toBe(true);
  });
});
