/**
 * Migration applier compatible with Prisma Migrate: reads prisma/migrations/<stamp>_<name>/migration.sql
 * in order and records each in `_prisma_migrations` exactly as `prisma migrate deploy` does, so
 * either tool can take over a database the other started.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const migrationsDir = fileURLToPath(new URL('../../prisma/migrations/', import.meta.url));

export interface MigrationFile {
  directory: string;
  sql: string;
  checksum: string;
}

export function listMigrations(dir = migrationsDir): MigrationFile[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(`${dir}/${d.name}/migration.sql`))
    .map((d) => d.name)
    .sort()
    .map((directory) => {
      const sql = readFileSync(`${dir}/${directory}/migration.sql`, 'utf8');
      return { directory, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/** The few operations the applier needs, satisfied by both PGlite and node-postgres. */
export interface SqlRunner {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
  /** Runs a multi-statement script (no parameters). */
  exec(sql: string): Promise<void>;
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

export class MigrationError extends Error {}

/**
 * Applies pending migrations, each in its own transaction, under an advisory lock so that
 * several instances starting together apply each migration once. Returns the names applied.
 */
export async function applyMigrations(db: SqlRunner, files = listMigrations()): Promise<string[]> {
  const applied: string[] = [];
  // Same lock key as Prisma Migrate uses, so the two never run concurrently.
  await db.query('SELECT pg_advisory_lock(72707369)');
  try {
    await db.exec(CREATE_TABLE);
    const { rows } = await db.query<{ migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null }>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"',
    );
    const done = new Map(rows.filter((r) => r.rolled_back_at === null).map((r) => [r.migration_name, r]));
    for (const file of files) {
      const previous = done.get(file.directory);
      if (previous?.finished_at) {
        if (previous.checksum !== file.checksum) {
          throw new MigrationError(`Migration ${file.directory} was modified after it was applied.`);
        }
        continue;
      }
      if (previous) {
        throw new MigrationError(`Migration ${file.directory} failed earlier; resolve it (prisma migrate resolve) before starting.`);
      }
      const id = randomUUID();
      await db.exec('BEGIN');
      try {
        await db.exec(file.sql);
        await db.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
           VALUES ($1, $2, $3, now(), now(), 1)`,
          [id, file.checksum, file.directory],
        );
        await db.exec('COMMIT');
      } catch (error) {
        await db.exec('ROLLBACK');
        throw new MigrationError(`Migration ${file.directory} failed: ${(error as Error).message}`);
      }
      applied.push(file.directory);
    }
  } finally {
    await db.query('SELECT pg_advisory_unlock(72707369)');
  }
  return applied;
}
