/**
 * No import runs back up the layers. Reads the import statements of every file in src/ and
 * checks each edge against the layer rules of the architecture (README, "Architecture"):
 *
 *   routes (with schemas and presenters beside them; mcp/ and openapi/ are route layers too)
 *     → services → data → db
 *   policies decide access and may use data, db and lib;
 *   http/ is the framework: it imports no service, route, presenter or data module; the
 *     application plugs into it through injected interfaces (AppDeps.authenticator), whose
 *     types the pipeline may name (the authentication statement's riders and preloads);
 *   fast/ is the speed layer (re-implementations of library behaviour, each with its proof):
 *     it imports only lib, config and generated, and http/, services/ and the root may import it;
 *   lib/ is pure helpers and imports no application layer;
 *   presenters import no service (their return types are the response schemas); services import no route, presenter or http;
 *   app-deps.ts is the wiring contract (types only); app.ts, bootstrap.ts, server.ts and
 *     openapi/yaml.ts assemble everything.
 *
 * A type-only import is an edge like any other: it couples the layers just the same.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importsOf, resolveLocal } from '../support/imports.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const src = join(root, 'src');

type Layer = 'lib' | 'config' | 'generated' | 'fast' | 'db' | 'data' | 'policies' | 'services' | 'http' | 'presenters' | 'schemas' | 'routes' | 'wiring' | 'root';

function layerOf(file: string): Layer {
  const path = relative(src, file);
  if (path === 'app-deps.ts') return 'wiring';
  // Assemble the application: the server's entry and wiring, and the document of all its routes.
  if (!path.includes('/') || path === 'openapi/yaml.ts') return 'root';
  const top = path.split('/')[0]!;
  if (top === 'mcp' || top === 'openapi') return 'routes';
  return top as Layer;
}

const BELOW_ROUTES: Layer[] = ['services', 'policies', 'http', 'data', 'db', 'config', 'generated', 'lib'];

/** What each layer may import (besides itself). */
const MAY_IMPORT: Record<Layer, readonly Layer[]> = {
  lib: [],
  config: ['lib'],
  generated: [],
  fast: ['config', 'generated', 'lib'],
  db: ['config', 'generated', 'lib'],
  data: ['db', 'generated', 'lib'],
  policies: ['data', 'db', 'generated', 'lib'],
  services: ['wiring', 'policies', 'data', 'db', 'fast', 'config', 'generated', 'lib'],
  http: ['policies', 'fast', 'config', 'generated', 'lib'],
  // A presenter's return type is its response schema (one source for the wire, the types and the document).
  presenters: ['schemas', 'data', 'generated', 'lib'],
  schemas: BELOW_ROUTES,
  routes: ['wiring', 'schemas', 'presenters', ...BELOW_ROUTES],
  wiring: ['services', 'http', 'db', 'config', 'lib'],
  root: ['wiring', 'routes', 'schemas', 'presenters', 'fast', ...BELOW_ROUTES],
};

/** Type-only edges a layer may have beyond MAY_IMPORT: the interfaces the application injects into the framework. */
const MAY_NAME_TYPES: Partial<Record<Layer, readonly string[]>> = {
  http: ['data/sessions.ts'],
};


function sourceFiles(): string[] {
  return readdirSync(src, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.startsWith('generated/'))
    .map((f) => join(src, f));
}

/** Whether the rules refuse an import of `target` by `file` (absolute paths). */
function refused(file: string, target: string, typeOnly: boolean): boolean {
  const from = layerOf(file);
  const to = layerOf(target);
  if (to === from || MAY_IMPORT[from].includes(to)) return false;
  return !(typeOnly && MAY_NAME_TYPES[from]?.includes(relative(src, target)));
}

/** Every import edge between two files of src/ that the rules refuse, as `from → to`. */
function violations(): string[] {
  const found = new Set<string>();
  for (const file of sourceFiles()) {
    const from = layerOf(file);
    for (const { specifier, typeOnly } of importsOf(readFileSync(file, 'utf8'))) {
      if (!specifier.startsWith('.')) continue;
      const target = resolveLocal(file, specifier);
      if (!target) continue;
      if (refused(file, target, typeOnly)) found.add(`${relative(src, file)} → ${relative(src, target)}`);
    }
  }
  return [...found].sort();
}

describe('layers', () => {
  const found = violations();

  it('no import runs back up the layers', () => {
    expect(found).toEqual([]);
  });

  it('the rules refuse the edges that run up', () => {
    const at = (path: string) => join(src, path);
    expect(refused(at('presenters/memory.ts'), at('services/memories/service.ts'), false)).toBe(true);
    expect(refused(at('services/team.ts'), at('presenters/team-member.ts'), true)).toBe(true);
    expect(refused(at('http/route.ts'), at('services/auth/tokens.ts'), false)).toBe(true);
    expect(refused(at('data/memories.ts'), at('policies/membership.ts'), false)).toBe(true);
    expect(refused(at('lib/errors.ts'), at('http/envelope.ts'), false)).toBe(true);
    expect(refused(at('fast/json-writer.ts'), at('http/envelope.ts'), false)).toBe(true);
    expect(refused(at('fast/provider-fetch.ts'), at('services/providers/anthropic.ts'), false)).toBe(true);
    expect(refused(at('routes/memories.ts'), at('fast/json-writer.ts'), false)).toBe(true);
    expect(refused(at('http/envelope.ts'), at('fast/json-writer.ts'), false)).toBe(false);
    expect(refused(at('services/providers/anthropic.ts'), at('fast/provider-fetch.ts'), false)).toBe(false);
    expect(refused(at('routes/memories.ts'), at('services/memories/service.ts'), false)).toBe(false);
    expect(refused(at('services/team.ts'), at('data/team-members.ts'), false)).toBe(false);
  });

  it('the wiring contract imports types only', () => {
    const file = join(src, 'app-deps.ts');
    expect(importsOf(readFileSync(file, 'utf8')).filter((i) => !i.typeOnly)).toEqual([]);
  });
});
