// `sigcast serve` for one node: start it, then shut it down on SIGTERM / SIGINT. A second signal
// during shutdown (what `timeout`, systemd, Docker and an impatient Ctrl-C send) is ignored so
// the shutdown finishes; a third forces the exit. Logs are flushed before the exit status is given.
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { startNode } from '../node.js';

/** What the process gives a running node: its stop signals, and whom to tell it listens. */
export interface NodeProcess {
  /** Registers what to do on each SIGTERM / SIGINT (or loss of the supervisor). */
  onStop(listener: (signal: string) => void): void;
  /** Registers what to do on SIGHUP: re-read the key files. */
  onReload?(listener: () => void): void;
  /** Told once the node listens (a worker tells its supervisor). */
  listening?(port: number, nodeId: string): void;
}

export type SignalAction = 'stop' | 'ignore' | 'force';

/** What the n-th stop signal (1-based) does. */
export function signalAction(count: number): SignalAction {
  if (count === 1) return 'stop';
  return count === 2 ? 'ignore' : 'force';
}

/** How long past SHUTDOWN_GRACE_SECONDS the process waits before it gives up on a clean stop. */
const OVERRUN_MS = 2000;

/** Runs a node until it is stopped; resolves with the exit status once the logs are flushed. */
export async function runNode(config: Config, log: Logger, io: NodeProcess): Promise<number> {
  // SIGHUP re-reads the key files; registered before the node starts (unhandled, it ends the process).
  let reload = (): void => {};
  io.onReload?.(() => reload());
  const node = await startNode(config, { log });
  reload = () => void node.reloadKeys();
  io.listening?.(node.port, node.nodeId);
  return new Promise((resolve) => {
    let signals = 0;
    let finished = false;
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      void flushLogs(log).then(() => resolve(code));
    };
    io.onStop((signal) => {
      signals += 1;
      switch (signalAction(signals)) {
        case 'stop': {
          log.info({ signal }, 'signal received: shutting down (a second signal is ignored, a third forces exit)');
          const overrun = setTimeout(() => {
            log.error({ graceSeconds: config.SHUTDOWN_GRACE_SECONDS }, 'shutdown did not finish within SHUTDOWN_GRACE_SECONDS: forcing exit');
            finish(1);
          }, config.SHUTDOWN_GRACE_SECONDS * 1000 + OVERRUN_MS);
          overrun.unref();
          node.stop().then(
            () => {
              clearTimeout(overrun);
              finish(0);
            },
            (error: unknown) => {
              clearTimeout(overrun);
              log.error({ err: error }, 'shutdown failed');
              finish(1);
            },
          );
          return;
        }
        case 'ignore':
          log.warn({ signal }, 'second signal during shutdown: ignored while the shutdown finishes (a third forces exit)');
          return;
        case 'force':
          log.error({ signal }, 'third signal during shutdown: forcing exit now');
          finish(1);
      }
    });
  });
}

/** Resolves once everything logged so far is written (bounded: a blocked stdout cannot hold the exit). */
export function flushLogs(log: Logger, timeoutMs = 1000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    log.flush(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
