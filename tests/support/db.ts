/**
 * Real databases for tests: an in-memory PGlite, or a throwaway database on the local
 * PostgreSQL (TEST_DATABASE_URL's server, default 127.0.0.1:5432) dropped afterwards.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite/vector';
import pg from 'pg';
import { type Database, openDatabase, type StatementObserver, type StorageKind } from '../../src/db/client.js';
import { listMigrations } from '../../src/db/migrations.js';

export const adminUrl = () => process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export function storages(): StorageKind[] {
  const wanted = (process.env.TEST_STORAGES ?? 'pglite,postgres').split(',').map((s) => s.trim());
  return wanted.filter((s): s is StorageKind => s === 'pglite' || s === 'postgres');
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  db: Database;
  /** Connection URL (PostgreSQL only), for a second server instance on the same data. */
  url: string | null;
  drop(): Promise<void>;
}

/** Creates an empty PostgreSQL database and returns its URL (no migrations applied). */
export async function createScratchPostgres(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `chimera_t_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/**
 * A migrated PGlite data directory, built once per migration set and cached as a tarball:
 * loading it is several times faster than initdb + migrations for every test file.
 */
async function migratedPgliteTemplate(): Promise<Blob> {
  const key = createHash('sha256').update(listMigrations().map((m) => m.checksum).join()).digest('hex').slice(0, 16);
  const file = join(tmpdir(), `chimera-pglite-template-${key}.tar`);
  if (!existsSync(file)) {
    const lite = await PGlite.create({ extensions: { vector } });
    const db = await openDatabase({ kind: 'pglite', dir: null, instance: lite });
    await db.migrate();
    const dump = await lite.dumpDataDir('none');
    await db.close();
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    renameSync(partial, file);
  }
  return new Blob([readFileSync(file)]);
}

/** `onStatement` hears every statement the app's requests send (the migrations run before it listens). */
export async function createTestDatabase(kind: StorageKind, { migrate = true, onStatement }: { migrate?: boolean; onStatement?: StatementObserver } = {}): Promise<TestDatabase> {
  if (kind === 'pglite') {
    const instance = await PGlite.create({ extensions: { vector }, ...(migrate ? { loadDataDir: await migratedPgliteTemplate() } : {}) });
    const db = await openDatabase({ kind: 'pglite', dir: null, instance, onStatement });
    return { db, url: null, drop: () => db.close() };
  }
  const scratch = await createScratchPostgres();
  const db = await openDatabase({ kind: 'postgres', url: scratch.url, poolSize: 5, onStatement });
  if (migrate) await db.migrate();
  return {
    db,
    url: scratch.url,
    drop: async () => {
      await db.close();
      await scratch.drop();
    },
  };
}
