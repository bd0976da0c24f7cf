/**
 * An exhausted connection pool: a transaction that cannot start within its wait (Prisma P2028,
 * what overload produces) answers 503 with Retry-After, like a database outage, not a 500.
 */
import express from 'express';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/bootstrap.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { errorHandler } from '../../src/http/middleware/error-handler.js';
import { createScratchPostgres } from '../support/db.js';

describe('database busy', () => {
  let db: Database;
  let scratch: Awaited<ReturnType<typeof createScratchPostgres>>;
  beforeAll(async () => {
    scratch = await createScratchPostgres();
    db = await openDatabase({ kind: 'postgres', url: scratch.url, poolSize: 1, timeoutMs: 10_000 });
  });
  afterAll(async () => {
    await db.close();
    await scratch.drop();
  });

  it('a transaction that cannot get a connection in time → 503 "Database busy" with Retry-After', async () => {
    // the only pooled connection is held by a slow transaction
    const holder = db.prisma.$transaction(async (tx) => tx.$executeRaw`SELECT pg_sleep(2)`, { timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 300));
    const error = await db.prisma.$transaction(async (tx) => tx.$executeRaw`SELECT 1`, { maxWait: 300 }).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('P2028');

    const app = express();
    app.get('/busy', (_req, _res, next) => next(error));
    app.use(errorHandler(createLogger({ logLevel: 'silent' })));
    const res = await supertest(app).get('/busy');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body).toEqual({ ok: false, data: null, error: 'Database busy' });
    await holder;
  });
});
