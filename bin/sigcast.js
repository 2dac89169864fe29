#!/usr/bin/env node
// The `sigcast` command. It runs the compiled dist/ only when dist/ is newer than every file under
// src/ (a build with no edit since); otherwise the TypeScript source through tsx, so that an edit
// after `npm run build` is never silently ignored. Which one and why is handed to the CLI, which
// logs it at start under LOG_LEVEL=debug.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const compiled = join(root, 'dist', 'src', 'cli.js');
const source = join(root, 'src');

/** Modification times (ms) of every file under `dir`, recursively. */
function mtimes(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((item) => {
    const path = join(dir, item.name);
    if (item.isDirectory()) return mtimes(path);
    return item.isFile() ? [statSync(path).mtimeMs] : [];
  });
}

function choose() {
  if (!existsSync(compiled)) return { runs: 'source', why: 'dist/ is not built' };
  if (!existsSync(source)) return { runs: 'dist', why: 'there is no src/' };
  const oldestBuilt = Math.min(...mtimes(join(root, 'dist', 'src')));
  const newestSource = Math.max(...mtimes(source));
  return oldestBuilt > newestSource
    ? { runs: 'dist', why: 'dist/ is newer than every file under src/' }
    : { runs: 'source', why: 'a file under src/ changed after the last build' };
}

const launch = choose();
globalThis[Symbol.for('sigcast.launch')] = launch;
if (launch.runs === 'dist') {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli.ts', import.meta.url).href);
}
