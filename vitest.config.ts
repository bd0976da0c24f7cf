import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // the reliability suite has its own entry point (npm run test:reliability)
    exclude: [...configDefaults.exclude, 'tests/reliability/**'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    // the default output, then how many responses were checked against openapi.yaml
    reporters: ['default', './tests/support/openapi-coverage-reporter.ts'],
    // server logs shown only for failed tests; temporary directories removed after each file
    setupFiles: ['tests/support/setup.ts'],
  },
});
