/**
 * Schema diff without the native Prisma engine: drives Prisma's Wasm schema engine
 * through a PostgreSQL driver adapter.
 *
 *   npm run db:diff                    SQL that turns the migrations into schema.prisma
 *   npm run db:diff -- --create <name> write it as prisma/migrations/<stamp>_<name>/migration.sql
 *
 * Runs fully offline: the engine replays the migrations in an in-memory PGlite database.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { diffMigrationsToSchema } from '../src/db/schema-diff.js';

const args = process.argv.slice(2);
const createAt = args.indexOf('--create');
const sql = await diffMigrationsToSchema();
if (createAt < 0) {
  process.stdout.write(sql.trim() ? sql : '-- no difference: the migrations produce schema.prisma\n');
} else {
  const name = (args[createAt + 1] ?? 'change').replace(/[^a-z0-9_]/gi, '_');
  if (!sql.trim() || /This is an empty migration/.test(sql)) {
    console.log('No schema change to write.');
  } else {
    const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
    const dir = `prisma/migrations/${stamp}_${name}`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/migration.sql`, sql);
    console.log(`Wrote ${dir}/migration.sql`);
  }
}
