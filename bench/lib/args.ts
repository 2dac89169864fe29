import { parseArgs } from 'node:util';
import { ALL_SYSTEMS, type SigcastVariant, SYSTEMS, type SystemName } from './variants.js';

/** Command-line options of `npm run bench -- ...`, validated with clear messages. */
export interface BenchArgs extends SigcastVariant {
  scenarios: string[] | undefined;
  systems: SystemName[];
  durationS?: number;
  subscribers?: number;
  rate?: number;
  /** Full sizes (issue 4) rather than the quick pass. */
  full: boolean;
  profile: boolean;
  /** The sigcast checkout to compile and run (default: this one): before/after in one sitting. */
  sigcastRoot: string | undefined;
  out: string;
  help: boolean;
}

export const USAGE = `usage: npm run bench -- [options]
  (no --scenario)            quick pass over every scenario and system (< 3 min)
  --scenario NAME[,NAME]     fanout, ingest, latency, replay-storm, connections, many-channels, cross-node (full size)
  --full                     every scenario at full size
  --systems a,b              ${ALL_SYSTEMS.join(',')} (default: ${SYSTEMS.join(',')})
  --cluster                  also run sigcast on a 3-master, 3-replica Redis Cluster (sigcast-cluster), next to sigcast on one Redis
  --duration S               publishing seconds per job
  --subscribers N            subscriber connections
  --rate R                   signals/s per publisher (paced instead of as fast as acknowledged)
  --transport uws|ws         sigcast transport (default uws)
  --encoding json|msgpack    sigcast frame encoding (default json)
  --broker memory|redis      sigcast broker (default redis; peers always use Redis)
  --batch on|off             sigcast subscriptions with batch (entries frames; default on, as the TypeScript client);
                             off for a build from before batch existed (--sigcast-root)
  --profile                  write V8 CPU profiles of the sigcast server(s) (node --cpu-prof)
  --sigcast-root DIR         compile and run the sigcast checkout in DIR instead of this one (a git worktree of
                             another commit, with node_modules): a change measured before and after in one sitting
  --out DIR                  results folder (default bench/results)`;

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new Error(`--${name} must be one of ${allowed.join(', ')} (got ${value})`);
}

function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new Error(`--${name} must be a positive number (got ${value})`);
  return number;
}

export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string' },
      systems: { type: 'string' },
      duration: { type: 'string' },
      subscribers: { type: 'string' },
      rate: { type: 'string' },
      transport: { type: 'string' },
      encoding: { type: 'string' },
      broker: { type: 'string' },
      batch: { type: 'string' },
      full: { type: 'boolean', default: false },
      cluster: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'sigcast-root': { type: 'string' },
      out: { type: 'string', default: 'bench/results' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const systems = values.systems ? values.systems.split(',').map((name) => oneOf('systems', name.trim(), ALL_SYSTEMS, 'sigcast')) : [...SYSTEMS];
  if (values.cluster && !systems.includes('sigcast-cluster')) systems.splice(systems.includes('sigcast') ? systems.indexOf('sigcast') + 1 : 0, 0, 'sigcast-cluster');
  const subscribers = positive('subscribers', values.subscribers);
  const args: BenchArgs = {
    scenarios: values.scenario?.split(',').map((name) => name.trim()),
    systems,
    transport: oneOf('transport', values.transport, ['uws', 'ws'] as const, 'uws'),
    encoding: oneOf('encoding', values.encoding, ['json', 'msgpack'] as const, 'json'),
    broker: oneOf('broker', values.broker, ['memory', 'redis'] as const, 'redis'),
    batch: oneOf('batch', values.batch, ['on', 'off'] as const, 'on') === 'on',
    full: values.full ?? false,
    profile: values.profile ?? false,
    sigcastRoot: values['sigcast-root'],
    out: values.out ?? 'bench/results',
    help: values.help ?? false,
  };
  const durationS = positive('duration', values.duration);
  const rate = positive('rate', values.rate);
  if (durationS !== undefined) args.durationS = Math.min(durationS, 600);
  if (subscribers !== undefined) args.subscribers = Math.min(Math.round(subscribers), 15_000);
  if (rate !== undefined) args.rate = rate;
  return args;
}
