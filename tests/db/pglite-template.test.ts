import { readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { ensureTemplate, initialiseDataDir, isDataDir } from '../../src/db/pglite-template.js';
import { tempDir } from '../support/temp-dirs.js';

/** Every file of a directory with its size and modification time. */
function listing(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[])
    .map((f) => ({ f, s: statSync(join(dir, f)) }))
    .filter(({ s }) => s.isFile())
    .map(({ f, s }) => `${f} ${s.size} ${s.mtimeMs}`)
    .sort();
}

describe('new embedded databases start from the template data directory', () => {
  it('copies the template (made by initdb in another process), opens it as a restart would, and never writes to the template', async () => {
    const template = (await ensureTemplate())!;
    expect(isDataDir(template)).toBe(true);
    const before = listing(template);
    const dir = join(tempDir('chimera-template-'), 'pglite');
    expect(await initialiseDataDir(dir)).toBe('template');
    const db = await openDatabase({ kind: 'pglite', dir });
    try {
      expect(await db.migrate()).toEqual([]); // applied in the template
      await db.query(`INSERT INTO users (id, email, name, password_hash, updated_at) VALUES (gen_random_uuid(), 'a@b.test', 'A', 'x', now())`);
    } finally {
      await db.close();
    }
    const again = await openDatabase({ kind: 'pglite', dir });
    try {
      expect(await again.migrate()).toEqual([]);
      expect(await again.query<{ email: string }>('SELECT email FROM users')).toEqual([{ email: 'a@b.test' }]);
    } finally {
      await again.close();
    }
    expect(listing(template)).toEqual(before);
    expect(await initialiseDataDir(dir)).toBeNull(); // a database is there: left as it is
  }, 120_000);

  it('without a template (a read-only install), initdb and the migrations run for the data directory in a child process', async () => {
    const dir = join(tempDir('chimera-template-'), 'pglite');
    expect(await initialiseDataDir(dir, async () => null)).toBe('initdb');
    const db = await openDatabase({ kind: 'pglite', dir });
    try {
      expect(await db.migrate()).toEqual([]);
      expect(await db.query<{ n: number }>('SELECT count(*)::int AS n FROM users')).toEqual([{ n: 0 }]);
    } finally {
      await db.close();
    }
  }, 120_000);

  it('a copy interrupted before PG_VERSION is not taken for a database: the next start copies again', async () => {
    const dir = join(tempDir('chimera-template-'), 'pglite');
    expect(await initialiseDataDir(dir)).toBe('template');
    rmSync(join(dir, 'PG_VERSION'));
    writeFileSync(join(dir, 'global', 'pg_control'), 'torn');
    expect(await initialiseDataDir(dir)).toBe('template');
    const db = await openDatabase({ kind: 'pglite', dir });
    try {
      expect(await db.query<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await db.close();
    }
  }, 120_000);
});
