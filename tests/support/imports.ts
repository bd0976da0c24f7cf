/**
 * The imports of a TypeScript source, as the structure tests read them: static imports and
 * re-exports (marked type-only when `import type`/`export type` or when every named binding
 * is `type X`, which the compiler erases), side-effect imports and dynamic `import()`.
 */
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface ImportEdge {
  specifier: string;
  /** Erased at compile time: loads nothing at run time. */
  typeOnly: boolean;
}

export function importsOf(source: string): ImportEdge[] {
  const found: ImportEdge[] = [];
  for (const m of source.matchAll(/^\s*(?:import|export)\s+(type\s+)?([^;]*?)\s*from\s*['"]([^'"]+)['"]/gm)) {
    const [, typeKeyword, clause = '', specifier = ''] = m;
    const braces = /^\{([^}]*)\}$/.exec(clause.trim());
    const names = braces?.[1]?.split(',').map((s) => s.trim()).filter(Boolean);
    const allTypes = names !== undefined && names.length > 0 && names.every((n) => n.startsWith('type '));
    found.push({ specifier, typeOnly: Boolean(typeKeyword) || allTypes });
  }
  for (const m of source.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) found.push({ specifier: m[1]!, typeOnly: false });
  for (const m of source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push({ specifier: m[1]!, typeOnly: false });
  return found;
}

/** The file a relative specifier names (`./x.js` → `./x.ts`, a directory → its index.ts), or null. */
export function resolveLocal(from: string, specifier: string): string | null {
  const base = join(dirname(from), specifier);
  const candidates = [base, base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => statSync(c, { throwIfNoEntry: false })?.isFile()) ?? null;
}
