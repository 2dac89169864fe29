// What bin/sigcast.js chose to run (the compiled dist/ or the source through tsx) and why, so
// that the choice is in the log at start (LOG_LEVEL=debug).
import type { Logger } from '../log.js';

interface Launch {
  runs: 'dist' | 'source';
  why: string;
}

const LAUNCH = Symbol.for('sigcast.launch');

/** Logs the launcher's choice; run without bin/sigcast.js (tsx src/cli.ts), says so. */
export function logLaunch(log: Logger): void {
  const launch = (globalThis as { [LAUNCH]?: Launch })[LAUNCH];
  if (launch) log.debug({ runs: launch.runs, why: launch.why }, `sigcast runs ${launch.runs === 'dist' ? 'the compiled dist/' : 'the TypeScript source (tsx)'}`);
  else log.debug({ runs: 'direct' }, 'sigcast runs src/cli directly (not through bin/sigcast.js)');
}
