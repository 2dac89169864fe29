import { randomFillSync } from 'node:crypto';

/**
 * OS randomness drawn 4 KiB at a time. Ids are made for every signal on the ingest hot path;
 * one getRandomValues call per byte (what `ulid` does by default) costs tens of microseconds.
 */
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

function randomByte(): number {
  if (offset >= POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  return pool[offset++]!;
}

/** Uniform in [0, 1) with 8 bits of resolution: enough for ULID's 5-bit characters. */
export function randomUnit(): number {
  return randomByte() / 256;
}

export function randomHex(bytes: number): string {
  let out = '';
  for (let i = 0; i < bytes; i += 1) out += randomByte().toString(16).padStart(2, '0');
  return out;
}
