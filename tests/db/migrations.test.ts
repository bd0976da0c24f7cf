import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite/vector';
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

  it('rewrite the activity rows that still name accounts deleted before account deletion anonymised them', async () => {
    const lite = await PGlite.create({ extensions: { vector } });
    const sql: SqlRunner = {
      query: async (text, params) => ({ rows: (await lite.query(text, params)).rows as never[] }),
      exec: async (text) => {
        await lite.exec(text);
      },
    };
    try {
      const files = listMigrations();
      const at = files.findIndex((f) => f.directory.endsWith('_anonymise_former_member_activities'));
      expect(at).toBeGreaterThan(0);
      await applyMigrations(sql, files.slice(0, at));
      const kept = '00000000-0000-4000-8000-000000000001';
      const gone = '00000000-0000-4000-8000-000000000002';
      await sql.query(`INSERT INTO users (id, email, password_hash, name, updated_at) VALUES ($1, 'kept@example.test', 'x', 'Kept', now())`, [kept]);
      await sql.query(`INSERT INTO workspaces (id, name, owner_id, updated_at) VALUES ('workspace-m1', 'W', $1, now())`, [kept]);
      const row = (id: string, userId: string, name: string, role: string) =>
        sql.query(`INSERT INTO activities (id, workspace_id, type, description, metadata) VALUES ($1, 'workspace-m1', 'team_member_added', $2, $3::jsonb)`, [
          id, `Team member ${name} added as ${role}`, JSON.stringify({ teamMemberId: `tm-${id}`, userId, role }),
        ]);
      await row('activity-1', kept, 'Kept', 'admin');
      await row('activity-2', gone, 'Gone Person', 'observer');
      expect(await applyMigrations(sql, files)).toEqual(files.slice(at).map((f) => f.directory));
      const { rows } = await sql.query('SELECT id, description, metadata FROM activities ORDER BY id');
      expect(rows).toEqual([
        { id: 'activity-1', description: 'Team member Kept added as admin', metadata: { teamMemberId: 'tm-activity-1', userId: kept, role: 'admin' } },
        { id: 'activity-2', description: 'A former member was added as observer', metadata: { teamMemberId: null, userId: null, role: 'observer' } },
      ]);
    } finally {
      await lite.close();
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
