// Child process of pglite-template.ts: creates an embedded database in the directory given
// (PGlite runs initdb when the directory holds none), applies the migrations, and closes it
// cleanly. Plain JavaScript, so it runs the same from sources and from dist/.
import { existsSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite/vector';

const compiled = new URL('./migrations.js', import.meta.url);
let migrations;
if (existsSync(compiled)) {
  migrations = await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  migrations = await import('./migrations.ts');
}

const db = await PGlite.create({ dataDir: process.argv[2], extensions: { vector } });
await migrations.applyMigrations({
  query: async (sql, params) => ({ rows: (await db.query(sql, params)).rows }),
  exec: async (sql) => {
    await db.exec(sql);
  },
});
await db.close();
