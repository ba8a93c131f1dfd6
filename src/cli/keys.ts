import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import { SigningKeyError } from '../credentials/errors.js';
import { KeyRing } from '../credentials/key-ring.js';
import { readKeyFile, saveKeyRing } from '../credentials/key-store.js';
import type { SigningAlgorithm } from '../credentials/signing-key.js';
import { asksForHelp, UsageError } from './usage.js';

const USAGE = `usage:
  toolgate keys rotate [--config FILE | --file PATH] [--algorithm Ed25519|ES256] [--overlap SECONDS]
  toolgate keys jwks   [--config FILE | --file PATH]`;

const DEFAULT_FILE = '.toolgate/signing-keys.json';

/**
 * `toolgate keys`: the per-call token signing keys. `rotate` adds a new key that signs from now
 * on and keeps the previous ones in the JWKS for the overlap window (a running gateway picks the
 * change up within seconds); `jwks` prints the public keys as published.
 */
export async function runKeys(args: string[]): Promise<number> {
  if (asksForHelp(args)) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [sub, ...rest] = args;
  const options = { config: { type: 'string', short: 'c' }, file: { type: 'string' }, algorithm: { type: 'string' }, overlap: { type: 'string' } } as const;
  let values: ReturnType<typeof parseArgs<{ options: typeof options }>>['values'];
  try {
    ({ values } = parseArgs({ args: rest, options, strict: true }));
  } catch (err) {
    process.stderr.write(`toolgate keys: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  try {
    const target = where(values.config, values.file);
    const now = Math.floor(Date.now() / 1000);
    switch (sub) {
      case 'rotate': {
        const algorithm = (values.algorithm ?? target.algorithm) as SigningAlgorithm;
        if (algorithm !== 'Ed25519' && algorithm !== 'ES256') throw new UsageError(`--algorithm must be Ed25519 or ES256, got ${algorithm}`);
        const overlap = values.overlap === undefined ? target.overlap : Number(values.overlap);
        if (!Number.isInteger(overlap) || overlap < 0) throw new UsageError(`--overlap must be a whole number of seconds, got ${values.overlap}`);
        const ring = existsSync(target.path) ? readKeyFile(target.path).rotated(algorithm, overlap, now) : KeyRing.generate(algorithm, now);
        saveKeyRing(target.path, ring);
        const kept = ring.keys.length - 1;
        process.stdout.write(`${target.path}: new ${algorithm} key ${ring.current.kid} signs from now on; ${kept} earlier key(s) stay in the JWKS for ${overlap} s\n`);
        return 0;
      }
      case 'jwks':
        process.stdout.write(`${JSON.stringify(readKeyFile(target.path).jwks(now), null, 2)}\n`);
        return 0;
      default:
        throw new UsageError(sub === undefined ? 'which keys command?' : `unknown keys command "${sub}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`toolgate keys: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    if (err instanceof ConfigError || err instanceof SigningKeyError) {
      process.stderr.write(`toolgate keys: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

/** The key file and its settings: from the config's credentials section, or a path, or the default. */
function where(config: string | undefined, file: string | undefined): { path: string; algorithm: SigningAlgorithm; overlap: number } {
  if (config !== undefined && file !== undefined) throw new UsageError('give --config or --file, not both');
  if (config === undefined) return { path: resolve(file ?? DEFAULT_FILE), algorithm: 'Ed25519', overlap: 3600 };
  const credentials = loadConfig(config).credentials;
  if (credentials === undefined) throw new UsageError(`${config} has no credentials: section`);
  if (credentials.keys.source !== 'file')
    throw new UsageError(
      `${config} takes its keys from ${credentials.keys.source === 'env' ? `environment variable ${credentials.keys.variable}; rotate with --file and load the file's content into it` : 'memory (ephemeral); nothing to rotate'}`,
    );
  return { path: credentials.keys.path, algorithm: credentials.algorithm, overlap: credentials.rotationOverlapSeconds };
}
