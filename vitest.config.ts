import { defineConfig } from 'vitest/config';

// The dashboard's load test measures the page's frame time in wall-clock terms, which another test
// file hammering the same two cores can stretch tenfold; it runs on its own, after everything else.
const ALONE = ['test/dashboard/dashboard.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/support/build-dashboard.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests start their own redis-server processes and servers on free ports; two cores only.
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: ALONE, fileParallelism: true, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'alone', include: ALONE, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
