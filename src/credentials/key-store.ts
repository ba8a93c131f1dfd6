import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SigningKeyError } from './errors.js';
import { KeyRing } from './key-ring.js';
import { fromStored, type SigningAlgorithm, type StoredKey, toStored } from './signing-key.js';

/** Where the signing keys come from (config `credentials.keys`). */
export type KeySource = { source: 'file'; path: string } | { source: 'env'; variable: string } | { source: 'ephemeral' };

interface KeyFile {
  keys: StoredKey[];
}

/**
 * Loads the ring. A missing key file is created with a fresh key (mode 0600, folder 0700);
 * an env variable holds the same JSON as the file (`{"keys":[…]}`) and is never written;
 * ephemeral keys live in memory only (tests, throw-away demos).
 */
export function loadKeyRing(source: KeySource, algorithm: SigningAlgorithm, nowSeconds: number): KeyRing {
  switch (source.source) {
    case 'ephemeral':
      return KeyRing.generate(algorithm, nowSeconds);
    case 'env': {
      const text = process.env[source.variable];
      if (text === undefined || text === '') {
        throw new SigningKeyError(
          'ERR_SIGNING_KEY_MISSING',
          `environment variable ${source.variable} is empty; it must hold the key set JSON ({"keys":[…]}) written by toolgate keys rotate`,
        );
      }
      return parseKeyFile(text, `environment variable ${source.variable}`);
    }
    case 'file': {
      if (!existsSync(source.path)) {
        const ring = KeyRing.generate(algorithm, nowSeconds);
        saveKeyRing(source.path, ring);
        return ring;
      }
      return readKeyFile(source.path);
    }
  }
}

export function readKeyFile(path: string): KeyRing {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SigningKeyError('ERR_SIGNING_KEY_UNREADABLE', `cannot read signing keys from ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseKeyFile(text, path);
}

/** Writes atomically (temp file, then rename) with owner-only permissions. */
export function saveKeyRing(path: string, ring: KeyRing): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const file: KeyFile = { keys: ring.keys.map(toStored) };
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, path);
}

function parseKeyFile(text: string, where: string): KeyRing {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new SigningKeyError('ERR_SIGNING_KEY_INVALID', `${where}: not JSON (${(err as Error).message})`, { cause: err });
  }
  const keys = (parsed as Partial<KeyFile> | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new SigningKeyError('ERR_SIGNING_KEY_INVALID', `${where}: expected {"keys":[…]} with at least one key`);
  return new KeyRing(keys.map((k: StoredKey) => fromStored(k, where)));
}
