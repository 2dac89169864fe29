import { freePort } from '../lib/ports.js';
import { spawnProcess, waitForHttp } from '../lib/procs.js';
import type { BenchNode } from './types.js';

export const REPO_ROOT = new URL('../../', import.meta.url).pathname;

/**
 * Starts one server process on a free port of 127.0.0.1 and waits until `healthPath` answers 200.
 * `args` get `{port}` replaced. The process is killed if the bench dies.
 */
export async function startServerProcess(
  name: string,
  args: string[],
  env: Record<string, string>,
  healthPath: string,
  port?: number,
  cwd: string = REPO_ROOT,
): Promise<BenchNode> {
  const chosen = port ?? (await freePort());
  const proc = spawnProcess(name, process.execPath, args.map((arg) => arg.replace('{port}', String(chosen))), {
    cwd,
    env: { ...env, PORT: String(chosen), HOST: '127.0.0.1' },
  });
  const http = `http://127.0.0.1:${chosen}`;
  try {
    await Promise.race([
      waitForHttp(`${http}${healthPath}`, 30_000),
      new Promise<never>((_, reject) =>
        proc.child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready:\n${proc.tail()}`))),
      ),
    ]);
  } catch (error) {
    await proc.stop(500);
    throw error;
  }
  return { http, ws: `ws://127.0.0.1:${chosen}`, proc };
}
