// Compiles src/ to plain JavaScript in dist/ (same layout, so paths relative to a module
// resolve the same), which `npm start` runs: no TypeScript loader at start. Quick (esbuild
// transpiles, tsc type-checks separately), and skipped when dist/ is newer than every source.
import { readdirSync, statSync, writeFileSync, rmSync, copyFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const out = join(root, 'dist');
const stamp = join(out, '.built');

function walk(dir, files = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, files);
    else files.push(path);
  }
  return files;
}

const files = walk(src);
const newest = Math.max(...files.map((f) => statSync(f).mtimeMs), statSync(join(root, 'package.json')).mtimeMs);
if (!process.argv.includes('--force') && existsSync(stamp) && statSync(stamp).mtimeMs >= newest) process.exit(0);

rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')),
  outdir: out,
  outbase: src,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
});
for (const f of files.filter((f) => !f.endsWith('.ts'))) {
  const to = join(out, relative(src, f));
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(f, to);
}
writeFileSync(stamp, new Date().toISOString());
