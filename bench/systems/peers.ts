import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { REPO_ROOT } from './node-proc.js';

/** The peers' own install (bench/peers/node_modules), kept apart from sigcast's dependencies. */
export const PEERS_DIR = join(REPO_ROOT, 'bench/peers');
const INSTALL_HINT = 'run `npm ci --prefix bench/peers`';

export function missingPeer(...packages: string[]): string | undefined {
  const missing = packages.filter((name) => !existsSync(join(PEERS_DIR, 'node_modules', name, 'package.json')));
  return missing.length ? `${missing.join(', ')} not installed: ${INSTALL_HINT}` : undefined;
}

/**
 * soketi must run on the native uWebSockets.js binary of the same republished package sigcast
 * uses (the `overrides` entry in bench/peers/package.json); never on the JavaScript emulation.
 */
export function soketiUwsProblem(): string | undefined {
  const soketiRequire = createRequire(join(PEERS_DIR, 'node_modules/@soketi/soketi/dist/index.js'));
  let entry: string;
  try {
    entry = soketiRequire.resolve('uWebSockets.js');
  } catch (error) {
    return `soketi's uWebSockets.js cannot be resolved: ${error instanceof Error ? error.message : String(error)}`;
  }
  const packageJson = join(entry.slice(0, entry.lastIndexOf('uWebSockets.js') + 'uWebSockets.js'.length), 'package.json');
  const manifest = JSON.parse(readFileSync(packageJson, 'utf8')) as { name?: string; version?: string };
  if (manifest.name !== '@trufflesuite/uws-js-unofficial') {
    return `soketi's uWebSockets.js is ${manifest.name}@${manifest.version}, not the republished @trufflesuite/uws-js-unofficial`;
  }
  const uws = soketiRequire('uWebSockets.js') as { App: unknown };
  if (!Function.prototype.toString.call(uws.App).includes('[native code]')) {
    return "soketi's uWebSockets.js loaded its JavaScript emulation, not the native binary";
  }
  return undefined;
}
