// vitest globalSetup: builds the dashboard once before any test file runs, so that every node a
// test starts serves the dashboard of the sources being tested, never a stale build.
import { buildDashboard } from '../../dashboard/build.js';

export default async function setup(): Promise<void> {
  await buildDashboard();
}
