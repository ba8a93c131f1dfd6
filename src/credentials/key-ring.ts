import type { JsonWebKey } from 'node:crypto';
import { SigningKeyError } from './errors.js';
import { generateSigningKey, type SigningAlgorithm, type SigningKey } from './signing-key.js';

/**
 * The gateway's signing keys: one in use, and earlier ones kept in the JWKS until their
 * overlap window ends, so tokens signed just before a rotation still verify.
 */
export class KeyRing {
  constructor(readonly keys: readonly SigningKey[]) {
    if (!keys.some((k) => k.retireAt === undefined)) throw new SigningKeyError('ERR_SIGNING_KEY_MISSING', 'the key set has no key in use (every key is retired)');
  }

  /** The newest key that is not retired: the one that signs. */
  get current(): SigningKey {
    let best: SigningKey | undefined;
    for (const k of this.keys) if (k.retireAt === undefined && (best === undefined || k.createdAt >= best.createdAt)) best = k;
    return best!;
  }

  /** Public keys for `/.well-known/jwks.json`: the current key and those still in their overlap. */
  jwks(nowSeconds: number): { keys: JsonWebKey[] } {
    return { keys: this.keys.filter((k) => k.retireAt === undefined || k.retireAt > nowSeconds).map((k) => k.publicJwk) };
  }

  /**
   * A new key takes over; the previous ones retire after `overlapSeconds` (and leave the ring
   * once that has passed). Sign-time never exceeds a token's lifetime, so the overlap only needs
   * to outlast the longest token plus verifiers' JWKS cache time.
   */
  rotated(algorithm: SigningAlgorithm, overlapSeconds: number, nowSeconds: number): KeyRing {
    const kept = this.keys.map((k) => (k.retireAt === undefined ? { ...k, retireAt: nowSeconds + overlapSeconds } : k)).filter((k) => k.retireAt! > nowSeconds);
    return new KeyRing([generateSigningKey(algorithm, nowSeconds), ...kept]);
  }

  static generate(algorithm: SigningAlgorithm, nowSeconds: number): KeyRing {
    return new KeyRing([generateSigningKey(algorithm, nowSeconds)]);
  }
}
