/**
 * Prints, at the end of a run, how many responses were checked against the OpenAPI document
 * and which documented operations no test exercised (tests/support/openapi-validator.ts).
 */
import { readFileSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';
import { parse } from 'yaml';
import type { Tally } from './openapi-validator.js';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

export default class OpenApiCoverageReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const tallies = modules.flatMap((m) => [...m.children.allTests()].map((t) => t.meta().openapi as Tally | undefined)).filter((t): t is Tally => t !== undefined);
    const validated = tallies.reduce((sum, t) => sum + t.validated, 0);
    if (validated === 0) return;
    const exercised = new Set(tallies.flatMap((t) => t.operations));
    const doc = parse(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8')) as { paths: Record<string, Record<string, unknown>> };
    const all = Object.entries(doc.paths).flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`));
    const never = all.filter((op) => !exercised.has(op));
    console.log(
      `\nOpenAPI response check: ${validated} responses validated against openapi.yaml; ${exercised.size} of ${all.length} operations exercised, ${never.length} never exercised` +
        (never.length > 0 && never.length <= 30 ? `:\n  ${never.join('\n  ')}` : ''),
    );
  }
}
