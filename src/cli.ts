// The `sigcast` command: `serve`, `tail`, `publish`, `--help`, `--version`. Each command lives in
// src/cli/; this file only picks one, hands it the process's streams and signals, and exits.
import { ConfigError, processEnv } from './config.js';
import { UsageError } from './cli/args.js';
import type { CommandIo } from './cli/io.js';
import { runKeys } from './cli/keys.js';
import { runPublish } from './cli/publish.js';
import { runServe } from './cli/serve.js';
import { runTail } from './cli/tail.js';
import { packageVersion } from './util/package-root.js';

const USAGE = `usage: sigcast serve [--flag value ...]       run a node (sigcast serve --help lists every variable: PORT, REDIS_URL, ...)
       sigcast tail <channel...> [options]   print signals as they arrive, resuming after disconnects
       sigcast publish [options]             publish a signal from flags, or JSON lines from stdin
       sigcast keys new|jwt [options]        issue an API key (printed once) or an HS256 JWT
       sigcast --version                     print the version

Run \`sigcast <command> --help\` for a command's options.`;

const COMMANDS: Record<string, (args: readonly string[], io: CommandIo) => Promise<number>> = {
  serve: (args, io) => runServe(args, io, processEnv()),
  tail: runTail,
  publish: runPublish,
  keys: (args, io) => runKeys(args, io, processEnv()),
};

const io: CommandIo = {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  onStop: (listener) => {
    // `on`, not `once`: after the first signal a second one must not kill the process mid-shutdown.
    process.on('SIGINT', () => listener('SIGINT'));
    process.on('SIGTERM', () => listener('SIGTERM'));
  },
  onReload: (listener) => {
    process.on('SIGHUP', listener);
  },
  relaunch: { script: process.argv[1]!, execArgv: process.execArgv },
  ...(process.send
    ? {
        supervisor: {
          listening: (port: number, nodeId: string) => process.send?.({ sigcast: 'listening', port, nodeId }),
          onGone: (listener: () => void) => process.once('disconnect', listener),
        },
      }
    : {}),
};

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`sigcast ${packageVersion()}\n`);
    return 0;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  const run = COMMANDS[name];
  if (!run) {
    process.stderr.write(`unknown command ${JSON.stringify(name)}\n${USAGE}\n`);
    return 2;
  }
  try {
    return await run(rest, io);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`sigcast ${name}: ${error.message}\nRun \`sigcast ${name} --help\` for its options.\n`);
    return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Before the logger exists (bad config, transport refused), say it plainly on stderr.
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`sigcast: ${message}\n`);
    process.exit(error instanceof ConfigError ? 2 : 1);
  },
);
