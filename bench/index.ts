/**
 * `npm run bench [suite ...]`: runs every suite in bench/suites (or the named ones) in
 * order and prints their figures. Loopback only. Suites export `default async function run()`.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('./suites/', import.meta.url));
const wanted = process.argv.slice(2);
const suites = readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .sort()
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)));

console.log(`Chimera API benchmarks — ${new Date().toISOString()}`);
console.log(`node ${process.version}, ${(await import('node:os')).cpus().length} cores, ${(await import('node:os')).cpus()[0]?.model ?? ''}`);
for (const file of suites) {
  console.log(`\n=== ${file.replace(/\.ts$/, '')} ===`);
  const mod = (await import(`./suites/${file}`)) as { default: () => Promise<void> };
  await mod.default();
}
process.exit(0);
