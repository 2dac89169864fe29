// `sigcast serve`: runs a node. Every configuration variable is also a --kebab-case flag, which
// wins over the environment; `--help` lists each one with its default and meaning.
import { ConfigError, ConfigSchema, describeConfig, loadConfig } from '../config.js';
import { createLogger } from '../log.js';
import type { CommandIo } from './io.js';
import { logLaunch } from './launch.js';
import { runNode } from './run-node.js';
import { superviseWorkers } from './workers.js';

export function serveUsage(): string {
  const variables = describeConfig().map(({ name, defaultValue, description }) => {
    const flag = `--${name.toLowerCase().replace(/_/g, '-')}`;
    return `  ${name} (${flag})${defaultValue === undefined ? '' : `, default ${defaultValue === '' ? '""' : defaultValue}`}\n      ${description}`;
  });
  return `usage: sigcast serve [--flag value ...]

Runs a sigcast node: HTTP ingest and history, the WebSocket hub, the dashboard at /. Every
configuration variable comes from the environment or from its flag (PORT as --port, REDIS_URL as
--redis-url, ...; a flag wins). A bad value stops it with a message naming the variable (exit
status 2). SIGTERM or SIGINT shut it down cleanly within SHUTDOWN_GRACE_SECONDS (exit status 0); a
second signal is ignored meanwhile, a third forces the exit (status 1). SIGHUP re-reads the key
files. --workers N runs N node processes sharing PORT, restarted when one dies (needs REDIS_URL).

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

/** Resolves with the exit status once the node (or every worker) stopped and the logs are flushed. */
export async function runServe(args: readonly string[], io: CommandIo, env: Record<string, string | undefined>): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(`${serveUsage()}\n`);
    return 0;
  }
  const config = loadConfig({ ...env, ...flagsToEnv(args) });
  const log = createLogger(config);
  logLaunch(log);
  if (config.WORKERS > 1) {
    if (!io.relaunch) throw new ConfigError([`WORKERS=${config.WORKERS}: this process cannot start workers (it does not know how it was started)`]);
    const worker = { ...io.relaunch, args, env };
    return superviseWorkers(config, log.child({ role: 'supervisor' }), worker, { onStop: io.onStop, ...(io.onReload ? { onReload: io.onReload } : {}) });
  }
  const supervisor = io.supervisor;
  return runNode(config, log, {
    onStop: (listener) => {
      io.onStop(listener);
      supervisor?.onGone(() => listener('supervisor gone'));
    },
    ...(io.onReload ? { onReload: io.onReload } : {}),
    ...(supervisor ? { listening: (port: number, nodeId: string) => supervisor.listening(port, nodeId) } : {}),
  });
}
