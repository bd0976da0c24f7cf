/** `npm run db:migrate`: applies pending migrations to DATABASE_URL, or to the embedded database in DATA_DIR. */
import { packageVersion } from '../src/bootstrap.js';
import { loadConfig } from '../src/config/env.js';
import { databaseOptionsFrom, openDatabase } from '../src/db/client.js';

const config = loadConfig(process.env, packageVersion);
const db = await openDatabase(databaseOptionsFrom(config));
try {
  const applied = await db.migrate();
  console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Database is up to date.');
} finally {
  await db.close();
}
