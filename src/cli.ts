import { ConfigError, ConfigSchema, loadConfig, processEnv } from './config.js';
import { createLogger } from './log.js';
import { startNode } from './node.js';

/**
 * `sigcast serve [--port 8080 --redis-url redis://... ...]`: every flag is the kebab-case form of
 * a configuration variable and overrides the environment.
 */
const USAGE = `usage: sigcast serve [--flag value ...]

Every configuration variable can be given as a flag: PORT as --port, REDIS_URL as --redis-url, ...
Variables: ${Object.keys(ConfigSchema.shape).join(', ')}`;

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

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command !== 'serve') {
    process.stderr.write(`unknown command ${JSON.stringify(command)}\n${USAGE}\n`);
    return 2;
  }
  const config = loadConfig({ ...processEnv(), ...flagsToEnv(rest) });
  const log = createLogger(config);
  const node = await startNode(config, { log });
  const shutdown = (signal: string) => {
    log.info({ signal }, 'signal received');
    node.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    // Before the logger exists (bad config, transport refused), say it plainly on stderr.
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`sigcast: ${message}\n`);
    process.exit(error instanceof ConfigError ? 2 : 1);
  },
);
