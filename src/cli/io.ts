// What a CLI command gets from the process: its streams, and a way to learn it should stop
// (Ctrl-C or SIGTERM). Commands take it as a parameter, so nothing but cli.ts touches `process`.
import type { Readable, Writable } from 'node:stream';

export interface CommandIo {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable;
  /** Registers what to do on SIGINT / SIGTERM. */
  onStop(listener: (signal: NodeJS.Signals) => void): void;
  /** Registers what to do on SIGHUP (`serve` re-reads its key files); absent where nothing listens. */
  onReload?(listener: () => void): void;
}
