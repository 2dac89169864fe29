// The files that hold credentials: the API keys file, a PEM public key and a local JWKS. Read
// at start (a problem stops the node, naming the file) and again on SIGHUP (a problem keeps the
// keys in use and is reported), so keys rotate without dropping a connection.
import { readFile } from 'node:fs/promises';
import type { JWTVerifyGetKey } from 'jose';
import { ApiKeyTable } from './api-keys.js';
import { importJwks, importPublicKeyPem, type PublicKey } from './jwt.js';

export interface KeyFilePaths {
  apiKeysFile?: string;
  jwtPublicKeyFile?: string;
  jwtJwksFile?: string;
}

export type KeyFileName = keyof KeyFilePaths;

export interface LoadedKeyFiles {
  apiKeys?: ApiKeyTable;
  publicKey?: PublicKey;
  jwks?: JWTVerifyGetKey;
}

/** A key file that cannot be used: which one, where, and why. */
export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
  constructor(
    readonly file: KeyFileName,
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
  }
}

/** Reads and checks every configured file; throws KeyFileError for the first unusable one. */
export async function loadKeyFiles(paths: KeyFilePaths): Promise<LoadedKeyFiles> {
  const loaded: LoadedKeyFiles = {};
  if (paths.apiKeysFile !== undefined) loaded.apiKeys = await load('apiKeysFile', paths.apiKeysFile, ApiKeyTable.parse);
  if (paths.jwtPublicKeyFile !== undefined) loaded.publicKey = await load('jwtPublicKeyFile', paths.jwtPublicKeyFile, importPublicKeyPem);
  if (paths.jwtJwksFile !== undefined) loaded.jwks = await load('jwtJwksFile', paths.jwtJwksFile, importJwks);
  return loaded;
}

async function load<T>(file: KeyFileName, path: string, parse: (text: string) => T): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new KeyFileError(file, path, `cannot be read (${error instanceof Error ? error.message : String(error)})`);
  }
  try {
    return parse(text);
  } catch (error) {
    throw new KeyFileError(file, path, error instanceof Error ? error.message : String(error));
  }
}
