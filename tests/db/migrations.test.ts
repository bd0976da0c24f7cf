import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { applyMigrations, listMigrations, MigrationError, type SqlRunner } from '../../src/db/migrations.js';
import { diffMigrationsToSchema } from '../../src/db/schema-diff.js';
import { createScratchPostgres } from '../support/db.js';

const runner = (client: pg.Client): SqlRunner => ({
  query: async (sql, params) => ({ rows: (await client.query(sql, params)).rows }),
  exec: async (sql) => {
    await client.query(sql);
  },
});

describe('migrations', () => {
  it('produce exactly the schema in prisma/schema.prisma (drift check with the Wasm schema engine)', async () => {
    const sql = await diffMigrationsToSchema();
    expect(sql).toBe('');
  }, 240_000);

  describe('applier', () => {
    let scratch: { url: string; drop(): Promise<void> };
    let client: pg.Client;
    beforeAll(async () => {
      scratch = await createScratchPostgres();
      client = new pg.Client({ connectionString: scratch.url });
      await client.connect();
    });
    afterAll(async () => {
      await client.end();
      await scratch.drop();
    });

    it('records each migration in _prisma_migrations the way prisma migrate deploy does, and is idempotent', async () => {
      const files = listMigrations();
      expect(files.length).toBeGreaterThan(0);
      const first = await applyMigrations(runner(client));
      expect(first).toEqual(files.map((f) => f.directory));
      const again = await applyMigrations(runner(client));
      expect(again).toEqual([]);
      const { rows } = await client.query('SELECT migration_name, checksum, finished_at, applied_steps_count, rolled_back_at FROM "_prisma_migrations" ORDER BY migration_name');
      expect(rows).toEqual(
        files.map((f) => ({ migration_name: f.directory, checksum: f.checksum, finished_at: expect.any(Date), applied_steps_count: 1, rolled_back_at: null })),
      );
      const tables = await client.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`);
      expect(tables.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['users', 'workspaces', 'memories', 'memory_chunks', 'conversations', 'chat_messages']));
    });

    it('refuses to start over a migration edited after it was applied', async () => {
      const files = listMigrations();
      const edited = [{ ...files[0]!, checksum: 'f'.repeat(64) }, ...files.slice(1)];
      await expect(applyMigrations(runner(client), edited)).rejects.toBeInstanceOf(MigrationError);
    });

    it('rolls back a failing migration and records nothing for it', async () => {
      const broken = [...listMigrations(), { directory: '29990101000000_broken', sql: 'CREATE TABLE ok_then (id int); SELECT * FROM no_such_table;', checksum: 'x' }];
      await expect(applyMigrations(runner(client), broken)).rejects.toThrow(/29990101000000_broken failed/);
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM "_prisma_migrations" WHERE migration_name = '29990101000000_broken'`);
      expect(rows[0].n).toBe(0);
      const table = await client.query(`SELECT to_regclass('ok_then') AS t`);
      expect(table.rows[0].t).toBeNull();
    });
  });

  it('several instances starting together apply each migration once', async () => {
    const scratch = await createScratchPostgres();
    try {
      const dbs = await Promise.all([1, 2, 3].map(() => openDatabase({ kind: 'postgres', url: scratch.url, poolSize: 2 })));
      const applied = await Promise.all(dbs.map((db) => db.migrate()));
      expect(applied.flat()).toEqual(listMigrations().map((f) => f.directory));
      await Promise.all(dbs.map((db) => db.close()));
    } finally {
      await scratch.drop();
    }
  });

  it('apply on PGlite too', async () => {
    const db = await openDatabase({ kind: 'pglite', dir: null });
    try {
      expect(await db.migrate()).toEqual(listMigrations().map((f) => f.directory));
      expect(await db.migrate()).toEqual([]);
    } finally {
      await db.close();
    }
  });
});
