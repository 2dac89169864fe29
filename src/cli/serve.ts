// `sigcast serve`: runs a node. Every configuration variable is also a --kebab-case flag, which
// wins over the environment; `--help` lists each one with its default and meaning.
import { ConfigError, ConfigSchema, describeConfig, loadConfig } from '../config.js';
import { createLogger } from '../log.js';
import { startNode } from '../node.js';
import type { CommandIo } from './io.js';

export function serveUsage(): string {
  const variables = describeConfig().map(({ name, defaultValue, description }) => {
    const flag = `--${name.toLowerCase().replace(/_/g, '-')}`;
    return `  ${name} (${flag})${defaultValue === undefined ? '' : `, default ${defaultValue === '' ? '""' : defaultValue}`}\n      ${description}`;
  });
  return `usage: sigcast serve [--flag value ...]

Runs a sigcast node: HTTP ingest and history, the WebSocket hub, the dashboard at /. Every
configuration variable comes from the environment or from its flag (PORT as --port, REDIS_URL as
--redis-url, ...; a flag wins). A bad value stops it with a message naming the variable (exit
status 2). SIGTERM or SIGINT shut it down cleanly (exit status 0); SIGHUP re-reads the key files.

Variables:
${variables.join('\n')}`;
}

export function flagsToEnv(args: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    const match = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new ConfigError([`unexpected argument ${JSON.stringify(arg)}`]);
    const name = match[1]!.replace(/-/g, '_').toUpperCase();
    if (!(name in ConfigSchema.shape)) throw new ConfigError([`unknown flag --${match[1]}`]);
    const value = match[2] ?? args[++i];
    if (value === undefined) throw new ConfigError([`flag --${match[1]} needs a value`]);
    env[name] = value;
  }
  return env;
}

/** Resolves with the exit status once the node stopped (after SIGTERM / SIGINT). */
export async function runServe(args: readonly string[], io: CommandIo, env: Record<string, string | undefined>): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(`${serveUsage()}\n`);
    return 0;
  }
  const config = loadConfig({ ...env, ...flagsToEnv(args) });
  const log = createLogger(config);
  // SIGHUP re-reads the key files; registered before the node starts (unhandled, it ends the process).
  let reload = (): void => {};
  io.onReload?.(() => reload());
  const node = await startNode(config, { log });
  reload = () => void node.reloadKeys();
  return new Promise((resolve) => {
    // node.stop() is idempotent: a repeated signal does not cut the shutdown short.
    io.onStop((signal) => {
      log.info({ signal }, 'signal received');
      node.stop().then(
        () => resolve(0),
        (error: unknown) => {
          log.error({ err: error }, 'shutdown failed');
          resolve(1);
        },
      );
    });
  });
}
