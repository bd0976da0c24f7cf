/**
 * A new embedded database starts as a copy of a template data directory instead of running
 * initdb in the server process. initdb inside WebAssembly costs seconds of CPU and leaves the
 * process a few hundred MB larger for its whole life (its memory, and a second PostgreSQL
 * instance PGlite starts for it, stay mapped); a copy costs tens of milliseconds, and the
 * first start then opens the database exactly as a restart does. The template has the
 * migrations applied too (creating the schema costs the server as much again).
 *
 * The template is made once per installed PGlite version and set of migrations (`npm install`
 * makes it; a first start that finds none makes it then), always in a child process, so the
 * server never maps initdb's memory. A database copied from it is then migrated as any other
 * (nothing to do, unless migrations were added since). Where the template cannot be written (a read-only install), the child
 * initialises the data directory itself.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listMigrations } from './migrations.js';

const cacheDir = fileURLToPath(new URL('../../.cache/', import.meta.url));
const initdbEntry = fileURLToPath(new URL('./pglite-initdb.mjs', import.meta.url));
/** initdb under a loaded machine has been seen to take 15 s; past this the child is given up. */
const INITDB_LIMIT_MS = 120_000;

/** The installed PGlite's version: a data directory is only valid for the PostgreSQL build that made it. */
function pgliteVersion(): string {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  let dir = dirname(entry);
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

const PREFIX = 'pglite-template-';

/** Where the template of the installed PGlite version and the current migrations lives. */
export function templateDir(): string {
  const migrations = createHash('sha256');
  for (const m of listMigrations()) migrations.update(`${m.directory} ${m.checksum}\n`);
  return join(cacheDir, `${PREFIX}${pgliteVersion()}-${migrations.digest('hex').slice(0, 12)}`);
}

/** Templates of other PGlite versions or migrations are of no further use. */
function removeStaleTemplates(current: string): void {
  for (const name of readdirSync(cacheDir)) {
    if (name.startsWith(PREFIX) && !name.includes('.building-') && join(cacheDir, name) !== current) rmSync(join(cacheDir, name), { recursive: true, force: true });
  }
}

export const isDataDir = (dir: string) => existsSync(join(dir, 'PG_VERSION'));

/** Runs initdb and the migrations for `dir` in a child process, which closes the database cleanly. */
function initdbInChild(dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [initdbEntry, dir], { timeout: INITDB_LIMIT_MS }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`initdb of the embedded database failed: ${stderr.trim().slice(-500) || error.message}`));
      else if (!isDataDir(dir)) reject(new Error('initdb of the embedded database made no data directory'));
      else resolve();
    });
  });
}

/**
 * The template directory, made now if missing; null where it cannot be written. Several
 * processes may make it at once: each builds its own and the first rename wins.
 */
export async function ensureTemplate(): Promise<string | null> {
  const template = templateDir();
  if (isDataDir(template)) return template;
  const building = `${template}.building-${process.pid}-${Date.now()}`;
  try {
    mkdirSync(building, { recursive: true });
  } catch {
    return null;
  }
  try {
    await initdbInChild(building);
    try {
      renameSync(building, template);
    } catch (error) {
      if (!isDataDir(template)) throw error;
    }
    removeStaleTemplates(template);
    return template;
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
}

/**
 * Gives `dir` a freshly initialised database unless it has one: a copy of the template, or
 * (no template possible) initdb and the migrations run for it in a child process. PG_VERSION is copied last, so a
 * copy interrupted half way is not taken for a database: the next start copies again.
 * Returns how the directory was made, or null when it held a database already.
 */
export async function initialiseDataDir(dir: string, makeTemplate = ensureTemplate): Promise<'template' | 'initdb' | null> {
  if (isDataDir(dir)) return null;
  const template = await makeTemplate();
  if (!template) {
    await initdbInChild(dir);
    return 'initdb';
  }
  // A copy-on-write clone where the filesystem offers one, a plain copy elsewhere.
  const copy = { recursive: true, force: true, mode: constants.COPYFILE_FICLONE };
  cpSync(template, dir, { ...copy, filter: (source) => source !== join(template, 'PG_VERSION') });
  cpSync(join(template, 'PG_VERSION'), join(dir, 'PG_VERSION'), copy);
  return 'template';
}
