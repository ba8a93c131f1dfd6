import { createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { canonicalBytes } from './hashing.js';
import { keyIdOf } from './keys.js';

/**
 * A signed statement "chain C had head hash H at position P at time T". Records after the last
 * checkpoint can be cut off unnoticed; records up to it cannot, and neither can the whole chain
 * be rewritten without the checkpoint key. The signature is Ed25519 over the RFC 8785 bytes of
 * the fields below (without `sig`).
 */
export interface Checkpoint {
  v: 1;
  chain: string;
  position: number;
  head: string;
  at: string;
  keyId: string;
  /** base64url Ed25519 signature. */
  sig: string;
}

export function signCheckpoint(fields: Omit<Checkpoint, 'sig' | 'v' | 'keyId'>, key: KeyObject, keyId: string): Checkpoint {
  const unsigned = { v: 1 as const, chain: fields.chain, position: fields.position, head: fields.head, at: fields.at, keyId };
  return { ...unsigned, sig: sign(null, Buffer.from(canonicalBytes(unsigned)), key).toString('base64url') };
}

/** Public keys a verifier trusts, by key id. */
export type TrustedKeys = Map<string, KeyObject>;

export function trustedKeys(pems: string[]): TrustedKeys {
  const keys: TrustedKeys = new Map();
  for (const pem of pems) {
    const key = createPublicKey(pem);
    keys.set(keyIdOf(key), key);
  }
  return keys;
}

export function checkpointSignatureValid(cp: Checkpoint, keys: TrustedKeys): boolean {
  const key = keys.get(cp.keyId);
  if (!key) return false;
  const { sig, ...unsigned } = cp;
  try {
    return verify(null, Buffer.from(canonicalBytes(unsigned)), key, Buffer.from(sig, 'base64url'));
  } catch {
    return false;
  }
}
