// Query parameters of the HTTP API, parsed strictly (pure): a parameter is absent, or given once
// as a plain decimal integer in range. `0x10`, `1e3`, `+1`, ` 1`, `1.0` and an empty value are
// refused rather than read as something else (Number() would take most of them).
import { SigcastError } from '../errors.js';

const DECIMAL = /^[0-9]+$/;

/** The integer value of `name`, or undefined when absent; SigcastError bad_request otherwise. */
export function queryInteger(query: URLSearchParams, name: string, max: number): number | undefined {
  const values = query.getAll(name);
  if (values.length === 0) return undefined;
  if (values.length > 1) throw new SigcastError('bad_request', `${name} may be given once, not ${values.length} times`);
  const raw = values[0]!;
  const value = DECIMAL.test(raw) ? Number(raw) : Number.NaN;
  if (!(value <= max)) throw new SigcastError('bad_request', `${name} must be a decimal integer from 0 to ${max}`);
  return value;
}
