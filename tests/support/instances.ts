/** A second server instance for tests of state shared across instances. */
import supertest from 'supertest';
import { createApp } from '../../src/app.js';
import { createDeps } from '../../src/bootstrap.js';
import { openDatabase } from '../../src/db/client.js';
import type { TestApp } from './app.js';
import { checked } from './openapi-validator.js';

/** Another server instance on the same database (its own pool on PostgreSQL) with its own caches. */
export async function secondInstance(app: TestApp) {
  const db = app.database.url ? await openDatabase({ kind: 'postgres', url: app.database.url, poolSize: 2 }) : app.deps.db;
  const deps = await createDeps(app.deps.config, { db, logger: app.deps.logger });
  return {
    http: supertest(checked(createApp(deps))),
    deps,
    close: async () => {
      await deps.embeddings.stop();
      await deps.rateLimitStore.close();
      if (db !== app.deps.db) await db.close();
    },
  };
}
