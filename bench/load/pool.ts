import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { track } from '../lib/procs.js';
import { withTimeout } from '../lib/timing.js';
import type { FromWorker, ToWorker } from './ipc.js';

type Kind = FromWorker['t'];
type Of<K extends Kind> = Extract<FromWorker, { t: K }>;

/** One forked load worker and a typed way to wait for its next message of a kind. */
export class WorkerHandle {
  private readonly waiters: Array<{ kind: Kind; resolve: (message: FromWorker) => void; reject: (error: Error) => void }> = [];
  private listener: ((message: FromWorker) => void) | undefined;

  constructor(readonly index: number, private readonly child: ChildProcess) {
    child.on('message', (message: FromWorker) => {
      if (message.t === 'error') {
        for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`load worker ${index}: ${message.message}`));
        return;
      }
      const at = this.waiters.findIndex((waiter) => waiter.kind === message.t);
      if (at >= 0) this.waiters.splice(at, 1)[0]?.resolve(message);
      else this.listener?.(message);
    });
    child.on('exit', (code, signal) => {
      if (code !== 0) console.error(`load worker ${index} exited (code ${code}, signal ${signal})`);
      for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`load worker ${index} exited (${code})`));
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  send(message: ToWorker): void {
    if (this.child.connected) this.child.send(message);
  }

  /** Messages nobody waits for (progress) go here. */
  onOther(listener: ((message: FromWorker) => void) | undefined): void {
    this.listener = listener;
  }

  next<K extends Kind>(kind: K, timeoutMs: number): Promise<Of<K>> {
    const promise = new Promise<FromWorker>((resolve, reject) => this.waiters.push({ kind, resolve, reject }));
    return withTimeout(promise, timeoutMs, `load worker ${this.index} answering ${kind}`) as Promise<Of<K>>;
  }

  /** Drops waiters of a job that failed, so the next job starts clean. */
  reset(): void {
    this.waiters.splice(0);
    this.listener = undefined;
  }
}

/**
 * Load worker processes, forked once per bench run and reused by every job (forking with tsx
 * costs about half a second each). They share the machine's two cores with the servers.
 */
export class WorkerPool {
  readonly workers: WorkerHandle[];

  constructor(count: number) {
    const entry = fileURLToPath(new URL('./worker.ts', import.meta.url));
    this.workers = Array.from({ length: count }, (_, index) => {
      const child = track(fork(entry, [], { execArgv: ['--import', 'tsx', '--max-old-space-size=4096'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
      return new WorkerHandle(index, child);
    });
  }

  close(): void {
    for (const worker of this.workers) worker.send({ t: 'exit' });
  }
}
