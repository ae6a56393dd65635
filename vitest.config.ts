import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
    pool: 'forks',
    // Every run analyses C afresh; the cache has its own test.
    env: { CGOGUARD_CACHE: 'off' },
  },
});
