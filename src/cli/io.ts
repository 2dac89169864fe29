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
  /** How this process was started, so that `serve --workers` can start it again per worker. */
  relaunch?: { script: string; execArgv: readonly string[] };
  /** Set in a worker of `serve --workers`: how it tells its supervisor it listens, and learns it is gone. */
  supervisor?: { listening(port: number, nodeId: string): void; onGone(listener: () => void): void };
}
