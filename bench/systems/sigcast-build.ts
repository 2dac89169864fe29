import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Which sigcast checkout the bench runs, compiled, and at which commit. */
export interface SigcastBuild {
  root: string;
  head: string;
}

/**
 * Compiles the sigcast checkout at `root` (`tsc -p tsconfig.build.json`, as `npm run build`
 * does) so that its `bin/sigcast.js` runs dist/, as an operator runs it, not the TypeScript
 * source through tsx (whose keepNames gives every closure a name property: ~2 KB more per idle
 * connection, and its loader in every profile). Another checkout (`--sigcast-root`) is how a
 * change is measured before and after in one sitting; it needs its own node_modules.
 */
export function buildSigcast(rootDir: string, log: (line: string) => void): SigcastBuild {
  const root = resolve(rootDir);
  for (const needed of ['bin/sigcast.js', 'src/cli.ts', 'tsconfig.build.json', 'node_modules/typescript/bin/tsc']) {
    if (!existsSync(join(root, needed))) throw new Error(`--sigcast-root ${root}: ${needed} is missing (a sigcast checkout with node_modules is needed)`);
  }
  const started = Date.now();
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  const head = gitHead(root);
  log(`sigcast: compiled ${root} at ${head} in ${((Date.now() - started) / 1000).toFixed(1)} s; servers run its dist/`);
  return { root, head };
}

/** The commit a checkout is at, marked when its src/ has uncommitted changes. */
export function gitHead(root: string): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: root, encoding: 'utf8' }).trim();
    return dirty ? `${head}+uncommitted src/` : head;
  } catch {
    return 'unknown';
  }
}
