/**
 * Offline schema diffing with Prisma's Wasm schema engine (no native engine download, no server).
 * Used to author migrations (scripts/migration-diff.ts) and by the drift test.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { listMigrations } from './migrations.js';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('../../', import.meta.url));
const schemaPath = `${root}prisma/schema.prisma`;
const migrationsDir = `${root}prisma/migrations`;

type DiffSide =
  | { tag: 'empty' }
  | { tag: 'schemaDatamodel'; files: { path: string; content: string }[] }
  | { tag: 'migrations'; baseDir: string; lockfile: { path: string; content: string | null }; migrationDirectories: unknown[]; shadowDbInitScript: string };

function schemaSide(): DiffSide {
  return { tag: 'schemaDatamodel', files: [{ path: schemaPath, content: readFileSync(schemaPath, 'utf8') }] };
}

function migrationsSide(): DiffSide {
  return {
    tag: 'migrations',
    baseDir: migrationsDir,
    lockfile: { path: 'migration_lock.toml', content: 'provider = "postgresql"\n' },
    migrationDirectories: listMigrations().map((m) => ({
      path: m.directory,
      migrationFile: { path: 'migration.sql', content: { tag: 'ok', value: m.sql } },
    })),
    shadowDbInitScript: '',
  };
}

interface WasmSchemaEngine {
  diff(params: unknown): Promise<{ stdout?: string }>;
}
let engineClass: Promise<{ new: (options: unknown, log: (m: string) => void, adapter: object) => Promise<WasmSchemaEngine> }> | undefined;

async function loadEngineClass() {
  // The engine reports Rust panics through this global.
  const g = globalThis as { PRISMA_WASM_PANIC_REGISTRY?: { set_message(m: string): void } };
  g.PRISMA_WASM_PANIC_REGISTRY ??= {
    set_message(message: string) {
      throw new Error(`Prisma schema engine panic: ${message}`);
    },
  };
  const runtime = require('@prisma/schema-engine-wasm/schema_engine_bg');
  const wasmPath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg').replace(/\.js$/, '.wasm');
  const module = new WebAssembly.Module(readFileSync(wasmPath));
  const instance = new WebAssembly.Instance(module, { './schema_engine_bg.js': runtime });
  runtime.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  return runtime.SchemaEngine;
}

async function diff(from: DiffSide, to: DiffSide): Promise<string> {
  engineClass ??= loadEngineClass();
  // An in-memory PGlite serves as the engine's database and its shadow database (where the
  // migrations are replayed), so diffing needs no PostgreSQL server.
  const lite = await PGlite.create();
  const adapter = bindMigrationAwareSqlAdapterFactory(new PrismaPGlite(lite));
  const datamodels = [[schemaPath, readFileSync(schemaPath, 'utf8')]];
  const engine = await (await engineClass).new({ datamodels }, () => {}, adapter);
  const result = await engine.diff({ from, to, script: true, exitCode: null, filters: { externalTables: [], externalEnums: [] } });
  await lite.close();
  return result.stdout ?? '';
}

/** SQL needed to bring a database built by the migrations up to schema.prisma ("" when none). */
export async function diffMigrationsToSchema(): Promise<string> {
  const sql = await diff(migrationsSide(), schemaSide());
  return /This is an empty migration/.test(sql) ? '' : sql;
}

/** SQL creating schema.prisma from nothing. */
export function diffEmptyToSchema(): Promise<string> {
  return diff({ tag: 'empty' }, schemaSide());
}
