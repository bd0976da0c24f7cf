/**
 * Runs in every test file (vitest `setupFiles`): server logs stay out of the output unless a
 * test fails, every response a test server sent must match the OpenAPI document, and the
 * file's temporary directories are removed after it.
 */
import { afterAll, afterEach, beforeEach, expect } from 'vitest';
import { outputSources } from './captured-output.js';
import { type Tally, takeFailures, takeTally } from './openapi-validator.js';
import { removeTempDirs } from './temp-dirs.js';

declare module '@vitest/runner' {
  interface TaskMeta {
    /** What the test's responses were checked for (read by the OpenAPI coverage reporter). */
    openapi?: Tally;
  }
}

/** Enough of a log to see what led to the failure, without flooding the report. */
const MAX_LINES = 200;

beforeEach((ctx) => {
  const marks = new Map(outputSources().map((source) => [source, source.size()]));
  ctx.onTestFailed(() => {
    for (const source of outputSources()) {
      const lines = source.since(marks.get(source) ?? 0).split('\n').filter((line) => line.trim() !== '');
      if (lines.length === 0) continue;
      const shown = lines.slice(-MAX_LINES);
      const cut = lines.length > shown.length ? ` (last ${shown.length} of ${lines.length} lines)` : '';
      console.error(`--- ${source.label}, during the failed test${cut} ---\n${shown.join('\n')}`);
    }
  });
});

// Responses of the test (and of the hooks before it) that the document does not describe.
afterEach((ctx) => {
  ctx.task.meta.openapi = takeTally();
  expect(takeFailures(), 'responses that do not match openapi.yaml').toEqual([]);
});

// Hooks run in reverse order of registration: this one after the file's own (servers stopped first).
afterAll(() => removeTempDirs());
