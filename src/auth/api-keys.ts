// API keys for bots. The server keeps only each key's SHA-256 (the AUTH_API_KEYS_FILE records)
// and compares hashes in constant time against every record, so neither the file nor the timing
// of an answer gives a key away. A key itself is shown once, by `sigcast keys new`.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { parseScopeStrict, type Scopes } from './scope.js';

/** Keys are `sck_` + 32 random bytes in base64url: recognisable in a leak scan, never a JWT (no dots). */
export const API_KEY_PREFIX = 'sck_';
const KEY_BYTES = 32;

export const ApiKeyNameSchema = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'name must be 1-64 chars of A-Z a-z 0-9 . _ -');

export const ApiKeyRecordSchema = z.strictObject({
  name: ApiKeyNameSchema,
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lower-case hex digits (the SHA-256 of the key)'),
  scope: z.string().max(4096),
});
export type ApiKeyRecord = z.infer<typeof ApiKeyRecordSchema>;

export const ApiKeysFileSchema = z.array(ApiKeyRecordSchema).max(100_000);

export interface ApiKey {
  readonly name: string;
  readonly scopes: Scopes;
}

interface StoredKey extends ApiKey {
  readonly hash: Buffer;
}

/** A fresh random key; print it once and keep only its hash. */
export function newApiKey(): string {
  return API_KEY_PREFIX + randomBytes(KEY_BYTES).toString('base64url');
}

export function sha256Hex(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The record to add to AUTH_API_KEYS_FILE for a key. */
export function apiKeyRecord(name: string, key: string, scope: string): ApiKeyRecord {
  return { name, sha256: sha256Hex(key), scope };
}

export class ApiKeyTable {
  private readonly keys: StoredKey[];

  private constructor(keys: StoredKey[]) {
    this.keys = keys;
  }

  /** Parses the file's JSON text: an array of {name, sha256, scope}; throws an Error that says what is wrong. */
  static parse(text: string): ApiKeyTable {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new Error(`is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
    }
    const parsed = ApiKeysFileSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`must be a JSON array of {name, sha256, scope} records: at ${issue.path.join('.') || '(top)'}: ${issue.message}`);
    }
    const names = new Set<string>();
    const keys = parsed.data.map((record, index) => {
      if (names.has(record.name)) throw new Error(`record ${index}: the name ${JSON.stringify(record.name)} is used twice`);
      names.add(record.name);
      let scopes: Scopes;
      try {
        scopes = parseScopeStrict(record.scope);
      } catch (error) {
        throw new Error(`record ${index} (${record.name}): ${error instanceof Error ? error.message : String(error)}`);
      }
      return { name: record.name, scopes, hash: Buffer.from(record.sha256, 'hex') };
    });
    return new ApiKeyTable(keys);
  }

  get size(): number {
    return this.keys.length;
  }

  /**
   * The key's record, if the key is in the table. Every record is compared (no early exit) with
   * timingSafeEqual, so the time taken says nothing about which record, or how much of it, matched.
   */
  find(key: string): ApiKey | undefined {
    const hash = createHash('sha256').update(key, 'utf8').digest();
    let found: StoredKey | undefined;
    for (const stored of this.keys) {
      if (timingSafeEqual(stored.hash, hash) && found === undefined) found = stored;
    }
    return found && { name: found.name, scopes: found.scopes };
  }
}
