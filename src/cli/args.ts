// What the client commands (tail, publish) share: flag parsing with plain errors, the server URL
// in the form each transport wants, and numbers from flags.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command line that cannot run: the CLI prints the message and the command's usage, and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const DEFAULT_URL = 'http://127.0.0.1:8080';

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs in strict mode, its errors turned into UsageErrors that name the flag. */
export function parseFlags<T extends Options>(args: readonly string[], options: T, allowPositionals: boolean) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals, strict: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // parseArgs says e.g. "Unknown option '--colour'. To specify a positional argument starting with a '-', ...".
    throw new UsageError(message.split('. To specify')[0]!.replace(/^Option '(.+?)' argument missing$/, "flag $1 needs a value"));
  }
}

/** The WebSocket endpoint for a server URL given as http(s)://host:port, ws(s)://host:port or the full /v1/ws URL. */
export function webSocketUrl(url: string): string {
  const parsed = serverUrl(url);
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
  if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
  if (!parsed.pathname.endsWith('/v1/ws')) parsed.pathname = `${parsed.pathname.replace(/\/+$/, '')}/v1/ws`;
  return parsed.toString();
}

/** The HTTP base for a server URL given in any of the forms webSocketUrl takes. */
export function httpUrl(url: string): string {
  const parsed = serverUrl(url);
  if (parsed.protocol === 'ws:') parsed.protocol = 'http:';
  if (parsed.protocol === 'wss:') parsed.protocol = 'https:';
  parsed.pathname = parsed.pathname.replace(/\/v1\/(ws|signals)$/, '').replace(/\/+$/, '');
  return parsed.toString().replace(/\/$/, '');
}

function serverUrl(url: string): URL {
  if (!URL.canParse(url)) throw new UsageError(`--url ${JSON.stringify(url)} is not a URL (e.g. ${DEFAULT_URL})`);
  const parsed = new URL(url);
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(parsed.protocol)) throw new UsageError(`--url must be http(s):// or ws(s)://, not ${parsed.protocol}//`);
  return parsed;
}

/** A flag's number, within bounds; undefined when the flag is absent. */
export function numberFlag(name: string, value: string | undefined, options: { min?: number; max?: number; integer?: boolean } = {}): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  const { min = -Infinity, max = Infinity, integer = false } = options;
  if (value.trim() === '' || !Number.isFinite(number) || (integer && !Number.isInteger(number)) || number < min || number > max) {
    const kind = integer ? 'an integer' : 'a number';
    const range = min > -Infinity && max < Infinity ? ` from ${min} to ${max}` : min > -Infinity ? ` >= ${min}` : '';
    throw new UsageError(`--${name} must be ${kind}${range}, not ${JSON.stringify(value)}`);
  }
  return number;
}
