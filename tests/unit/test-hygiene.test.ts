/**
 * The suite cleans up after itself and keeps its output to test results: temporary
 * directories come from tempDir() (removed after each file by tests/support/setup.ts), and
 * every logger writes to a capture (printed for failed tests only) or is silent.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const testsDir = join(root, 'tests');
const sources = readdirSync(testsDir, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts'))
  .map((f) => ({ file: relative(root, join(testsDir, f)), text: readFileSync(join(testsDir, f), 'utf8') }))
  .filter(({ file }) => file !== 'tests/unit/test-hygiene.test.ts');

describe('test suite hygiene', () => {
  it('creates temporary directories only through tempDir(), which removes them', () => {
    const offenders = sources.filter(({ file, text }) => file !== 'tests/support/temp-dirs.ts' && /\bmkdtemp(Sync)?\(/.test(text)).map(({ file }) => file);
    expect(offenders).toEqual([]);
  });

  it('never logs to stdout: a logger gets a destination or is silent', () => {
    const offenders = sources.flatMap(({ file, text }) =>
      [...text.matchAll(/\bcreateLogger\(([^()]*(?:\([^()]*\)[^()]*)*)\)/g)]
        .map((m) => m[1]!)
        .filter((args) => !args.includes(',') && !/logLevel:\s*'silent'/.test(args))
        .map((args) => `${file}: createLogger(${args})`),
    );
    expect(offenders).toEqual([]);
  });

  it('both test configurations load the setup that captures logs and removes temporary directories', () => {
    for (const config of ['vitest.config.ts', 'vitest.reliability.config.ts']) {
      expect(readFileSync(join(root, config), 'utf8'), config).toContain("setupFiles: ['tests/support/setup.ts']");
    }
  });
});
