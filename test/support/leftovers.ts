// What a test process leaves behind goes when it exits: the redis-server processes it started and
// its temp dirs. Test workers are often killed rather than exited (vitest's fork pool), so dirs are
// named after the test process, and the next one removes those of processes that died.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DIR_PREFIX = 'sigcast-redis-';

const running = new Set<ChildProcess>();
const dirs = new Set<string>();
let exitHookInstalled = false;

/** A fresh temp dir, removed when this process exits. */
export function scratchDir(): string {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`));
  dirs.add(dir);
  return dir;
}

/** SIGKILLed when this process exits, if it is still running then. */
export function killAtExit(child: ChildProcess): void {
  installExitHook();
  running.add(child);
  child.once('exit', () => running.delete(child));
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: signal the children and remove their dirs.
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  removeDirsOfDeadProcesses();
}

function removeDirsOfDeadProcesses(): void {
  const pattern = new RegExp(`^${DIR_PREFIX}(\\d+)-`);
  for (const name of readdirSync(tmpdir())) {
    const pid = Number(pattern.exec(name)?.[1] ?? NaN);
    if (Number.isInteger(pid) && pid !== process.pid && !isAlive(pid)) {
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
