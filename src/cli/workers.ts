// `sigcast serve --workers N`: N node processes on one port (REUSE_PORT: the kernel spreads the
// connections over them), each a full node on the shared Redis, supervised: a worker that dies is
// started again, and a stop signal is forwarded to every worker. One node process per core.
import { type ChildProcess, fork } from 'node:child_process';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { flushLogs, signalAction } from './run-node.js';

/** How the supervisor starts a worker: this same command, run again by node. */
export interface WorkerCommand {
  /** The script node runs (process.argv[1]) and node's own flags (process.execArgv, e.g. tsx). */
  script: string;
  execArgv: readonly string[];
  /** The serve arguments; --workers and --reuse-port are replaced for the workers. */
  args: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
}

export interface SupervisorIo {
  onStop(listener: (signal: string) => void): void;
  /** SIGHUP: forwarded to every worker (each re-reads its key files). */
  onReload?(listener: () => void): void;
  /** Starts a worker; by default a fork of `command` with an IPC channel (tests may wrap it). */
  launch?(index: number): ChildProcess;
}

/** The message a worker sends its supervisor once it listens. */
export interface ListeningMessage {
  sigcast: 'listening';
  port: number;
  nodeId: string;
}

/** A worker that ran this long before it died is restarted at once; one dying sooner waits, doubling. */
const HEALTHY_RUN_MS = 10_000;
const RESTART_BASE_MS = 500;
const RESTART_MAX_MS = 30_000;
/** How long past SHUTDOWN_GRACE_SECONDS the supervisor waits for its workers before killing them. */
const OVERRUN_MS = 3000;

/** Arguments and environment of worker `index`: one process of N sharing the port. */
export function workerArgs(command: WorkerCommand, index: number): { args: string[]; env: Record<string, string | undefined> } {
  const args: string[] = [];
  for (let i = 0; i < command.args.length; i += 1) {
    const arg = command.args[i]!;
    const flag = /^--(workers|reuse-port)(=.*)?$/.exec(arg);
    if (!flag) args.push(arg);
    else if (flag[2] === undefined) i += 1; // its value is the next argument
  }
  const nodeId = command.env.NODE_ID;
  const env = { ...command.env, WORKERS: '1', REUSE_PORT: 'true', ...(nodeId ? { NODE_ID: `${nodeId}-${index}` } : {}) };
  return { args, env };
}

/** The delay before restarting a worker that died after `ranMs`, the `quickDeaths`-th time in a row it died early. */
export function restartDelayMs(ranMs: number, quickDeaths: number): number {
  if (ranMs >= HEALTHY_RUN_MS) return 0;
  return Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** Math.max(0, quickDeaths - 1));
}

interface Slot {
  index: number;
  child?: ChildProcess;
  startedAt: number;
  listened: boolean;
  quickDeaths: number;
  restartTimer?: NodeJS.Timeout;
}

/** Starts config.WORKERS workers and supervises them; resolves with the exit status. */
export function superviseWorkers(config: Config, log: Logger, command: WorkerCommand, io: SupervisorIo): Promise<number> {
  const launch =
    io.launch ??
    ((index: number) => {
      const { args, env } = workerArgs(command, index);
      return fork(command.script, ['serve', ...args], { execArgv: [...command.execArgv], env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    });
  const slots: Slot[] = Array.from({ length: config.WORKERS }, (_, i) => ({ index: i + 1, startedAt: 0, listened: false, quickDeaths: 0 }));
  let phase: 'starting' | 'running' | 'stopping' = 'starting';
  let signals = 0;

  return new Promise((resolve) => {
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      void flushLogs(log).then(() => resolve(code));
    };
    let failures = 0;
    const live = () => slots.filter((slot) => slot.child !== undefined);

    const start = (slot: Slot) => {
      slot.restartTimer = undefined;
      const child = launch(slot.index);
      slot.child = child;
      slot.startedAt = Date.now();
      slot.listened = false;
      log.info({ worker: slot.index, workerPid: child.pid }, 'worker started');
      child.on('message', (message: Partial<ListeningMessage>) => {
        if (message?.sigcast !== 'listening' || slot.child !== child) return;
        slot.listened = true;
        log.info({ worker: slot.index, workerPid: child.pid, port: message.port, nodeId: message.nodeId }, 'worker listening');
        if (phase === 'starting' && slots.every((candidate) => candidate.listened)) {
          phase = 'running';
          log.info({ workers: slots.length, port: message.port }, 'all workers listening');
        }
      });
      child.once('exit', (code, signal) => exited(slot, child, code, signal));
    };

    const exited = (slot: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null) => {
      if (slot.child !== child) return;
      slot.child = undefined;
      if (phase === 'stopping') {
        // The exit status says whether every worker stopped cleanly.
        if (code !== 0) failures += 1;
        log.info({ worker: slot.index, workerPid: child.pid, code, signal }, 'worker stopped');
        if (live().length === 0) finish(failures === 0 ? 0 : 1);
        return;
      }
      if (phase === 'starting' && !slot.listened) {
        // A worker that cannot even start (its own stderr says why): the others would fail alike.
        log.error({ worker: slot.index, workerPid: child.pid, code, signal }, 'worker exited before listening: stopping every worker');
        stopAll('SIGTERM');
        if (live().length === 0) finish(code === null || code === 0 ? 1 : code);
        else phase = 'stopping';
        return;
      }
      const ranMs = Date.now() - slot.startedAt;
      slot.quickDeaths = ranMs >= HEALTHY_RUN_MS ? 0 : slot.quickDeaths + 1;
      const delayMs = restartDelayMs(ranMs, slot.quickDeaths);
      log.warn({ worker: slot.index, workerPid: child.pid, code, signal, restartInMs: delayMs }, 'worker died: restarting it');
      slot.restartTimer = setTimeout(() => start(slot), delayMs);
    };

    const stopAll = (signal: NodeJS.Signals) => {
      for (const slot of slots) {
        if (slot.restartTimer) clearTimeout(slot.restartTimer);
        slot.restartTimer = undefined;
        slot.child?.kill(signal);
      }
    };

    io.onStop((signal) => {
      signals += 1;
      switch (signalAction(signals)) {
        case 'stop': {
          phase = 'stopping';
          log.info({ signal, workers: live().length }, 'signal received: stopping every worker (a second signal is ignored, a third forces exit)');
          stopAll('SIGTERM');
          if (live().length === 0) return finish(0);
          setTimeout(() => {
            log.error({ workers: live().length }, 'workers did not stop within SHUTDOWN_GRACE_SECONDS: killing them');
            stopAll('SIGKILL');
            finish(1);
          }, config.SHUTDOWN_GRACE_SECONDS * 1000 + OVERRUN_MS).unref();
          return;
        }
        case 'ignore':
          log.warn({ signal }, 'second signal during shutdown: ignored while the workers stop (a third forces exit)');
          return;
        case 'force':
          log.error({ signal }, 'third signal during shutdown: killing every worker now');
          stopAll('SIGKILL');
          finish(1);
      }
    });

    io.onReload?.(() => {
      log.info({ workers: live().length }, 'SIGHUP: forwarded to every worker');
      for (const slot of slots) slot.child?.kill('SIGHUP');
    });
    for (const slot of slots) start(slot);
  });
}
