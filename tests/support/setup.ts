/**
 * Runs in every test file (vitest `setupFiles`): server logs stay out of the output unless a
 * test fails, and the file's temporary directories are removed after it.
 */
import { afterAll, beforeEach } from 'vitest';
import { outputSources } from './captured-output.js';
import { removeTempDirs } from './temp-dirs.js';

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

// Hooks run in reverse order of registration: this one after the file's own (servers stopped first).
afterAll(() => removeTempDirs());
