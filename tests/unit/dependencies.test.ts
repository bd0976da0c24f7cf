/**
 * Every package the server loads at run time is a dependency, not a devDependency: a
 * production install (`npm ci --omit=dev`) has no devDependencies, and a route that imports
 * one fails there only. Follows the imports from the entry points, as Node would load them
 * (type-only imports are erased and load nothing), and also `new Worker(new URL(…))` entries.
 *
 * And the declared Node versions are true to the dependency set: every package the lock
 * file installs supports each of them, so an install on a documented version prints no
 * EBADENGINE warning.
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { importsOf, resolveLocal } from '../support/imports.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ENTRIES = ['src/server.ts'];

/** The specifiers a module really loads: imports that are not type-only, and worker entries. */
function runtimeSpecifiers(source: string): string[] {
  const found = importsOf(source).filter((i) => !i.typeOnly).map((i) => i.specifier);
  for (const m of source.matchAll(/new Worker\(\s*new URL\(\s*['"]([^'"]+)['"]/g)) found.push(m[1]!);
  return found;
}

const packageOf = (specifier: string) => (specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!);

function runtimePackages(): Map<string, string> {
  const packages = new Map<string, string>(); // package → first file importing it
  const seen = new Set<string>();
  const queue = ENTRIES.map((e) => join(root, e));
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of runtimeSpecifiers(readFileSync(file, 'utf8'))) {
      if (specifier.startsWith('.')) {
        const local = resolveLocal(file, specifier);
        if (local && /\.(m?ts|m?js)$/.test(local)) queue.push(local);
        continue;
      }
      if (specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
      const name = packageOf(specifier);
      if (!packages.has(name)) packages.set(name, relative(root, file));
    }
  }
  return packages;
}

describe('package.json', () => {
  it('lists every package the server imports at run time under dependencies', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const packages = runtimePackages();
    expect(packages.has('express')).toBe(true); // the walk works
    expect(packages.has('playwright-core')).toBe(true); // dynamic imports count
    const missing = [...packages].filter(([name]) => !(name in pkg.dependencies)).map(([name, file]) => `${name} (imported by ${file})`);
    expect(missing).toEqual([]);
  });
});

describe('engines', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { engines?: unknown; optional?: boolean }>;
  };

  it('the lock file records the engines package.json declares', () => {
    expect(lock.packages['']!.engines).toEqual(pkg.engines);
  });

  it('every installed package supports every Node version package.json declares', () => {
    const declared = pkg.engines.node;
    expect(semver.validRange(declared)).not.toBeNull();
    const excluding = Object.entries(lock.packages)
      // npm checks no engines of optional packages: one that does not fit is skipped, silently.
      .filter(([path, entry]) => path !== '' && !entry.optional)
      .flatMap(([path, entry]) => {
        const node = (entry.engines as { node?: unknown } | undefined)?.node;
        return typeof node === 'string' && !semver.subset(declared, node) ? [`${path.replace(/^.*node_modules\//, '')} wants node ${node}`] : [];
      });
    expect(excluding, `declared node ${declared}`).toEqual([]);
  });
});
