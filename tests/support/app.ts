/**
 * A real app over a real database for HTTP tests, and `describeEachStorage` to run a suite
 * on both PGlite and PostgreSQL.
 */
import { once } from 'node:events';
import { Writable } from 'node:stream';
import pg from 'pg';
import supertest from 'supertest';
import { afterAll, beforeAll, describe } from 'vitest';
import type { AppDeps } from '../../src/app-deps.js';
import { type ChimeraApp, createApp } from '../../src/app.js';
import { createDeps, createLogger } from '../../src/bootstrap.js';
import { createHttpServer } from '../../src/fast/http-server.js';
import { loadConfig } from '../../src/config/env.js';
import type { StorageKind } from '../../src/db/client.js';
import { captureOutput, lineSource } from './captured-output.js';
import { adminUrl, createTestDatabase, storages, type TestDatabase } from './db.js';
import { responseChecker } from './openapi-validator.js';
import { tempDir } from './temp-dirs.js';

export const TEST_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  JWT_SECRET: 'test-secret-that-is-long-enough-for-hs256-0123456789',
  ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
  // Below the minimum of 10 a server accepts, allowed with NODE_ENV=test only: at 10 the hashing of every
  // registration and login costs the suite about a third more CPU (measured on the matrix and team tests).
  BCRYPT_COST: '4',
  LOG_LEVEL: 'info',
  AUTH_RATE_LIMIT_PER_IP: '10000',
  AUTH_RATE_LIMIT_PER_EMAIL: '10000',
  // One per test file (removed after it): test files run in parallel and must not share one.
  DATA_DIR: tempDir('chimera-test-data-'),
};

/** Whether the test PostgreSQL can load pgvector (the pgvector backend's tests skip there without it). */
const postgresHasPgvector = await (async () => {
  if (!storages().includes('postgres')) return false;
  const client = new pg.Client({ connectionString: adminUrl() });
  try {
    await client.connect();
    const { rows } = await client.query("SELECT count(*)::int AS n FROM pg_available_extensions WHERE name = 'vector'");
    return rows[0].n > 0;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
})();

export interface TestApp {
  storage: StorageKind;
  app: ChimeraApp;
  deps: AppDeps;
  database: TestDatabase;
  http: ReturnType<typeof supertest>;
  /** Every log line the app wrote, for asserting that no secret leaks. */
  logs: string[];
  close(): Promise<void>;
}

export async function startTestApp(storage: StorageKind, env: Record<string, string> = {}, database?: TestDatabase): Promise<TestApp> {
  const config = loadConfig({ ...TEST_ENV, ...env });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const db = database ?? (await createTestDatabase(storage));
  const deps = await createDeps(config, { db: db.db, logger: createLogger(config, sink) });
  const app = createApp(deps);
  // The server the process runs (its request objects shaped as Express's), listening once.
  const server = createHttpServer(app);
  // Every response is checked against the OpenAPI document (tests/support/openapi-validator.ts).
  server.prependListener('request', responseChecker(app));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  captureOutput(lineSource(`server log (${storage})`, logs));
  return {
    storage,
    app,
    deps,
    database: db,
    http: supertest(server),
    logs,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await deps.documentParser.close();
      await deps.extractions.stop();
      await deps.embeddings.stop();
      await Promise.allSettled([...deps.background]);
      await deps.rateLimitStore.close();
      await db.drop();
    },
  };
}

/** Runs `suite` once per storage (PGlite and PostgreSQL), each with its own fresh database. */
export function describeEachStorage(name: string, suite: (ctx: () => TestApp) => void, env: Record<string, string> = {}) {
  for (const storage of storages()) {
    if (env.VECTOR_BACKEND === 'pgvector' && storage === 'postgres' && !postgresHasPgvector) {
      console.log(`skipped: ${name} [postgres]: the test PostgreSQL has no pgvector extension (PGlite runs these tests)`);
      describe.skip(`${name} [${storage}]`, () => suite(() => { throw new Error('skipped'); }));
      continue;
    }
    describe(`${name} [${storage}]`, () => {
      let current: TestApp | undefined;
      beforeAll(async () => {
        current = await startTestApp(storage, env);
      });
      afterAll(async () => {
        await current?.close();
      });
      suite(() => {
        if (!current) throw new Error('test app not started');
        return current;
      });
    });
  }
}
