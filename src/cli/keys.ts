// `sigcast keys new --name bot-7 --scope "publish:BTC*"`: a fresh random API key, printed once,
// and the record that goes into AUTH_API_KEYS_FILE (the server keeps only its hash).
// `sigcast keys jwt --sub alice --scope "subscribe:*" --ttl 3600`: an HS256 token signed with
// AUTH_JWT_SECRET, for trying things out and for services without an identity provider.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { SignJWT } from 'jose';
import { apiKeyRecord, ApiKeyNameSchema, ApiKeyTable, newApiKey, type ApiKeyRecord } from '../auth/api-keys.js';
import { parseScopeStrict } from '../auth/scope.js';
import { parseFlags, UsageError } from './args.js';
import type { CommandIo } from './io.js';

export const KEYS_USAGE = `usage: sigcast keys new --name <name> --scope "<scope>" [--file <keys.json>] [--json]
       sigcast keys jwt --sub <subject> --scope "<scope>" [--ttl <seconds>] [--issuer <iss>] [--audience <aud>]

keys new   prints a new API key once, and the record to add to AUTH_API_KEYS_FILE
           (--file adds it there itself; then send the server SIGHUP to load it)
keys jwt   prints an HS256 JWT signed with AUTH_JWT_SECRET (from the environment), valid --ttl seconds (default 3600)

A scope is a space-separated list of publish:<pattern> and subscribe:<pattern>, where * matches
any run of channel-name characters, e.g. "publish:BTC* subscribe:*".`;

const NEW_FLAGS = {
  name: { type: 'string' },
  scope: { type: 'string' },
  file: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const JWT_FLAGS = {
  sub: { type: 'string' },
  scope: { type: 'string' },
  ttl: { type: 'string' },
  issuer: { type: 'string' },
  audience: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flags = Record<string, string | boolean | undefined>;

/** Runs `sigcast keys ...`; resolves with the exit status (usage problems throw UsageError: exit 2). */
export async function runKeys(args: readonly string[], io: CommandIo, env: Record<string, string | undefined>): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${KEYS_USAGE}\n`);
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'new') return newKey(parseFlags(rest, NEW_FLAGS, false).values, io);
  if (sub === 'jwt') return newJwt(parseFlags(rest, JWT_FLAGS, false).values, io, env);
  throw new UsageError(`unknown keys command ${JSON.stringify(sub)}; use new or jwt`);
}

function required(flags: Flags, name: string): string {
  const value = flags[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

function checkedScope(flags: Flags): string {
  const scope = required(flags, 'scope');
  try {
    parseScopeStrict(scope);
  } catch (error) {
    throw new UsageError(`--scope: ${error instanceof Error ? error.message : String(error)}`);
  }
  return scope.trim().split(/\s+/).join(' ');
}

function newKey(flags: Flags, io: CommandIo): number {
  const name = required(flags, 'name');
  if (!ApiKeyNameSchema.safeParse(name).success) throw new UsageError('--name must be 1-64 chars of A-Z a-z 0-9 . _ -');
  const key = newApiKey();
  const record = apiKeyRecord(name, key, checkedScope(flags));
  const file = flags['file'];
  if (typeof file === 'string') addToFile(file, record);
  if (flags['json'] === true) {
    io.stdout.write(`${JSON.stringify({ key, record })}\n`);
    return 0;
  }
  io.stdout.write(`API key for ${name} (shown only now; store it, e.g. in the bot's secret store):\n${key}\n\n`);
  if (typeof file === 'string') io.stdout.write(`Added to ${file}; send the server SIGHUP (kill -HUP <pid>) to load it.\n`);
  else io.stdout.write(`Add this record to the AUTH_API_KEYS_FILE array, then send the server SIGHUP:\n${JSON.stringify(record)}\n`);
  return 0;
}

/** Adds the record to a keys file (created when absent), refusing a name already there; written atomically. */
function addToFile(path: string, record: ApiKeyRecord): void {
  const records: ApiKeyRecord[] = [];
  if (existsSync(path)) {
    const text = readFileSync(path, 'utf8');
    try {
      ApiKeyTable.parse(text);
    } catch (error) {
      throw new UsageError(`--file ${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
    records.push(...(JSON.parse(text) as ApiKeyRecord[]));
  }
  if (records.some((existing) => existing.name === record.name)) throw new UsageError(`--file ${path} already has a key named ${JSON.stringify(record.name)}`);
  records.push(record);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(records, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}

async function newJwt(flags: Flags, io: CommandIo, env: Record<string, string | undefined>): Promise<number> {
  const secret = env['AUTH_JWT_SECRET'];
  if (secret === undefined || secret.length < 32) throw new UsageError('AUTH_JWT_SECRET (at least 32 chars) must be set in the environment');
  const subject = required(flags, 'sub');
  const ttl = Number(flags['ttl'] ?? 3600);
  if (!Number.isInteger(ttl) || ttl <= 0) throw new UsageError('--ttl must be a positive whole number of seconds');
  let token = new SignJWT({ scope: checkedScope(flags) }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(subject).setIssuedAt().setExpirationTime(`${ttl}s`);
  const issuer = flags['issuer'];
  const audience = flags['audience'];
  if (typeof issuer === 'string') token = token.setIssuer(issuer);
  if (typeof audience === 'string') token = token.setAudience(audience);
  io.stdout.write(`${await token.sign(new TextEncoder().encode(secret))}\n`);
  return 0;
}
