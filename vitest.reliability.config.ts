import { defineConfig } from 'vitest/config';

/**
 * `npm run test:reliability`: faults, several instances, hostile input and the soak.
 * Files run one after another: they start server processes and load them, and their
 * figures mean nothing if they compete for the same cores.
 * `RELIABILITY_SHORT=1` (what CI sets) shortens the soak and the property runs.
 */
export default defineConfig({
  test: {
    include: ['tests/reliability/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    passWithNoTests: true,
    testTimeout: 900_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
    reporters: ['default'],
    setupFiles: ['tests/support/setup.ts'],
  },
});
