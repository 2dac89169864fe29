import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/build-dashboard.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests start their own redis-server processes and servers on free ports; two cores only.
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
  },
});
