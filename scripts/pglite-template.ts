// Makes the template data directory new embedded databases are copied from (see
// src/db/pglite-template.ts); run by `npm install`. Never fails the install: without a
// template, the first start makes it.
import { ensureTemplate } from '../src/db/pglite-template.js';

const started = performance.now();
try {
  const template = await ensureTemplate();
  if (template) console.log(`PGlite template data directory ready (${Math.round(performance.now() - started)} ms)`);
  else console.warn('PGlite template data directory not writable; each new database runs initdb at its first start');
} catch (error) {
  console.warn(`PGlite template data directory not made (${(error as Error).message}); the first start makes it`);
}
