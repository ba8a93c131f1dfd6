import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/**
 * The hash that binds a per-call token to the arguments it was minted for: base64url of the
 * SHA-256 of the RFC 8785 (JCS) canonical JSON. Canonical form makes key order and number
 * spelling irrelevant, so the upstream gets the same hash from the bytes it parsed.
 *
 * @example
 * argumentsHash({ b: 1, a: 'x' }) === argumentsHash({ a: 'x', b: 1.0 }) // true
 */
export function argumentsHash(args: unknown): string {
  const canonical = canonicalize(args ?? {}) ?? '{}';
  return createHash('sha256').update(canonical).digest('base64url');
}
