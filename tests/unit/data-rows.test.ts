/**
 * Every raw-SQL projection the data-access modules declare names real fields mapped to
 * their real columns in `prisma/schema.prisma`, so a renamed or dropped column fails here
 * instead of in a request. The row types themselves come from the generated model types.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { declaredProjections, type Projection } from '../../src/data/sql.js';

const root = join(import.meta.dirname, '../..');

/** model → field → column, read from the schema's `@map` attributes (scalar fields only). */
function schemaColumns(): Map<string, Map<string, string>> {
  const text = readFileSync(join(root, 'prisma/schema.prisma'), 'utf8');
  const models = new Map<string, Map<string, string>>();
  for (const block of text.matchAll(/^model (\w+) \{([\s\S]*?)^\}/gm)) {
    const fields = new Map<string, string>();
    for (const line of block[2]!.split('\n')) {
      const field = /^\s+(\w+)\s+([\w]+)(\[\])?\??(?:\([^)]*\))?\??\s*(.*)$/.exec(line);
      if (!field) continue;
      const [, name, , , rest] = field;
      if (/@relation\b/.test(rest!)) continue;
      fields.set(name!, /@map\("([^"]+)"\)/.exec(rest!)?.[1] ?? name!);
    }
    models.set(block[1]!, fields);
  }
  return models;
}

async function importDataModules(): Promise<number> {
  const dir = join(root, 'src/data');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  for (const file of files) await import(join(dir, file));
  return files.length;
}

function problemsOf(projections: readonly Projection[]): string[] {
  const schema = schemaColumns();
  const problems: string[] = [];
  for (const projection of projections) {
    const model = schema.get(projection.model);
    if (!model) {
      problems.push(`${projection.model}: no such model`);
      continue;
    }
    for (const [field, column] of Object.entries<string>(projection.fields)) {
      const actual = model.get(field);
      if (actual === undefined) problems.push(`${projection.model}.${field}: no such field`);
      else if (actual !== column) problems.push(`${projection.model}.${field}: column is "${actual}", declared "${column}"`);
    }
  }
  return problems;
}

describe('data-access rows', () => {
  it('every declared projection matches the schema', async () => {
    expect(await importDataModules()).toBeGreaterThan(0);
    expect(declaredProjections().length).toBeGreaterThan(0);
    expect(problemsOf(declaredProjections())).toEqual([]);
  });

  it('the check can fail', () => {
    const wrong = [
      { model: 'Memory', fields: { workspaceId: 'workspace', title: 'title' }, sql: '' },
      { model: 'Memory', fields: { nothing: 'nothing' }, sql: '' },
    ] as unknown as Projection[];
    expect(problemsOf(wrong)).toEqual(['Memory.workspaceId: column is "workspace_id", declared "workspace"', 'Memory.nothing: no such field']);
  });
});
