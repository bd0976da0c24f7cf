/**
 * The file a child process runs for a module of this code base. Built code (dist/, `npm
 * start`) runs as it is. From sources (tests, `tsx`) the module is bundled once with esbuild,
 * its packages left as imports, into node_modules/.cache, where those imports resolve as
 * usual. A child started with the tsx loader instead took about three seconds to import
 * pdf.js (tsx builds a source map for every module it loads), which no parse deadline or
 * URL import deadline can afford.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bundled = new Map<string, string>();

/** Path of the file to fork for `module` (a `.js` file as it is, a `.ts` file bundled). */
export async function childEntryPath(module: URL): Promise<string> {
  const source = fileURLToPath(module);
  if (!source.endsWith('.ts')) return source;
  const known = bundled.get(source);
  if (known) return known;
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [source],
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  // Named by content and written by rename: processes bundling at once never read a partial file.
  const dir = join(nodeModulesOf(source), '.cache', 'chimera-children');
  const target = join(dir, `${basename(source, '.ts')}-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
  if (!existsSync(target)) {
    mkdirSync(dir, { recursive: true });
    const temporary = `${target}.${process.pid}.tmp`;
    writeFileSync(temporary, code);
    renameSync(temporary, target);
  }
  bundled.set(source, target);
  return target;
}

function nodeModulesOf(path: string): string {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules'))) return join(dir, 'node_modules');
    if (dirname(dir) === dir) throw new Error(`no node_modules above ${path}`);
  }
}
