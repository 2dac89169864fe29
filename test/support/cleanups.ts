import { afterEach } from 'vitest';
import { startTestNode } from './sigcast.js';

export type Cleanups = Array<() => Promise<unknown>>;

/** Cleanups registered during a test, run newest first after it, in the file that calls this. */
export function cleanupsPerTest(): Cleanups {
  const cleanups: Cleanups = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return cleanups;
}

/** Starts a test node that is stopped when the test ends. */
export function nodePerTest(cleanups: Cleanups): () => ReturnType<typeof startTestNode> {
  return async () => {
    const started = await startTestNode();
    cleanups.push(() => started.stop());
    return started;
  };
}
