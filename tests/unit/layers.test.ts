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
 *   lib/ is pure helpers and imports no application layer;
 *   presenters import no service; services import no route, presenter or http;
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

type Layer = 'lib' | 'config' | 'generated' | 'db' | 'data' | 'policies' | 'services' | 'http' | 'presenters' | 'schemas' | 'routes' | 'wiring' | 'root';

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
  db: ['config', 'generated', 'lib'],
  data: ['db', 'generated', 'lib'],
  policies: ['data', 'db', 'generated', 'lib'],
  services: ['wiring', 'policies', 'data', 'db', 'config', 'generated', 'lib'],
  http: ['policies', 'config', 'generated', 'lib'],
  presenters: ['data', 'generated', 'lib'],
  schemas: ['presenters', ...BELOW_ROUTES],
  routes: ['wiring', 'schemas', 'presenters', ...BELOW_ROUTES],
  wiring: ['services', 'http', 'db', 'config', 'lib'],
  root: ['wiring', 'routes', 'schemas', 'presenters', ...BELOW_ROUTES],
};

/** Type-only edges a layer may have beyond MAY_IMPORT: the interfaces the application injects into the framework. */
const MAY_NAME_TYPES: Partial<Record<Layer, readonly string[]>> = {
  http: ['data/sessions.ts'],
};

/**
 * Edges that still run up the layers, in files being reworked elsewhere (data access per
 * resource, presenters called from routes). Each goes when its file imports from the right
 * layer (AppError and isPlainObject from lib/; presenters' helpers from lib/); an entry that
 * no longer matches an edge fails the test, so the list only shrinks. It is empty when those
 * changes have landed.
 */
const NOT_YET_MOVED = new Set<string>([
  'policies/policy.ts → http/errors.ts',
  'policies/policy.ts → http/validation.ts',
  'presenters/memory.ts → services/embeddings/vectors.ts',
  'presenters/workspace.ts → services/workspace-stats.ts',
  'services/chat/send-message.ts → http/errors.ts',
  'services/chat/send-message.ts → http/validation.ts',
  'services/chat/send-message.ts → presenters/conversation.ts',
  'services/conversations/index.ts → http/errors.ts',
  'services/imports/file-import.ts → http/errors.ts',
  'services/imports/parser-pool.ts → http/errors.ts',
  'services/imports/url-import.ts → http/errors.ts',
  'services/integrations/index.ts → http/errors.ts',
  'services/invitations.ts → http/errors.ts',
  'services/invitations.ts → presenters/invitation.ts',
  'services/mcp/memory-tools.ts → http/errors.ts',
  'services/mcp/memory-tools.ts → presenters/memory.ts',
  'services/memories/service.ts → http/errors.ts',
  'services/memories/service.ts → presenters/memory.ts',
  'services/team.ts → http/errors.ts',
  'services/team.ts → presenters/invitation.ts',
  'services/team.ts → presenters/team-member.ts',
  'services/workspace-list.ts → presenters/workspace.ts',
  'services/workspaces.ts → presenters/team-member.ts',
  'services/workspaces.ts → presenters/workspace.ts',
]);

function sourceFiles(): string[] {
  return readdirSync(src, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.startsWith('generated/'))
    .map((f) => join(src, f));
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
      const to = layerOf(target);
      const edge = `${relative(src, file)} → ${relative(src, target)}`;
      if (to === from || MAY_IMPORT[from].includes(to)) continue;
      if (typeOnly && MAY_NAME_TYPES[from]?.includes(relative(src, target))) continue;
      found.add(edge);
    }
  }
  return [...found].sort();
}

describe('layers', () => {
  const found = violations();

  it('no import runs back up the layers (apart from the edges not yet moved)', () => {
    expect(found.filter((edge) => !NOT_YET_MOVED.has(edge))).toEqual([]);
  });

  it('every edge not yet moved still exists (remove an entry once its edge is gone)', () => {
    expect([...NOT_YET_MOVED].filter((edge) => !found.includes(edge))).toEqual([]);
  });

  it('the wiring contract imports types only', () => {
    const file = join(src, 'app-deps.ts');
    expect(importsOf(readFileSync(file, 'utf8')).filter((i) => !i.typeOnly)).toEqual([]);
  });
});
