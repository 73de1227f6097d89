import { defineConfig } from 'vitest/config';

// Browser tests for Huizhen: real server processes and real Chromium. Files run
// one after another because each starts its own server and browser, and two
// at once would starve a 2-core machine and make media timing flaky.
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    pool: 'forks',
  },
});
