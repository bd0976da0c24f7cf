// Child process of pglite-template.ts: creates an embedded database in the directory given
// (PGlite runs initdb when the directory holds none) and closes it cleanly. Plain JavaScript,
// so it runs the same from sources and from dist/.
import { PGlite } from '@electric-sql/pglite';

const db = await PGlite.create({ dataDir: process.argv[2] });
await db.close();
