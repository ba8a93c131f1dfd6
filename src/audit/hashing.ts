import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** The `prev` of a chain's first record: 32 zero bytes, hex. */
export const GENESIS = '0'.repeat(64);

/**
 * RFC 8785 (JCS) bytes of a JSON value. Records are stored and exported as exactly these bytes,
 * so anyone can recompute a hash without trusting toolgate's serializer.
 */
export function canonicalBytes(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('cannot canonicalize an undefined value');
  return text;
}

/** SHA-256 of the canonical bytes, lowercase hex: the leaf hash of a record. */
export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}
