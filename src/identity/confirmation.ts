import { AuthenticationError } from './errors.js';

/** What a token's `cnf` claim (RFC 7800) binds it to, once toolgate has understood all of it. */
export interface Confirmation {
  /** RFC 8705 `x5t#S256`: the client certificate the token is bound to. */
  boundThumbprint?: string;
  /** RFC 9449 `jkt`: the JWK SHA-256 thumbprint of the key every DPoP proof must be signed with. */
  boundKey?: string;
}

/** base64url SHA-256: 32 bytes, 43 characters, no padding. */
const SHA256_B64URL = /^[A-Za-z0-9_-]{43}$/;
const UNBOUND: Confirmation = {};

/**
 * Reads `cnf`. A token is only as strong as the binding toolgate checks, so anything it cannot
 * check is refused rather than ignored: a `cnf` that is not an object, an empty one, a member
 * other than `x5t#S256` and `jkt` (say `jwk`, `kid`, `x5t`), or a member that is not a
 * base64url SHA-256 string. No `cnf` at all is an unbound (plain bearer) token.
 *
 * @example
 * confirmationOf({ jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' }) // { boundKey: '0ZcO…' }
 * confirmationOf({ 'x5t#S256': ['a', 'b'] })                          // throws ERR_TOKEN_CNF
 */
export function confirmationOf(cnf: unknown): Confirmation {
  if (cnf === undefined) return UNBOUND;
  if (cnf === null || typeof cnf !== 'object' || Array.isArray(cnf)) {
    throw new AuthenticationError('ERR_TOKEN_CNF', `cnf is ${describe(cnf)}, not an object`);
  }
  const members = Object.keys(cnf);
  if (members.length === 0) throw new AuthenticationError('ERR_TOKEN_CNF', 'cnf names no confirmation method');
  const unknown = members.filter((m) => m !== 'x5t#S256' && m !== 'jkt');
  if (unknown.length > 0) {
    throw new AuthenticationError('ERR_TOKEN_CNF', `cnf member ${unknown.map((m) => JSON.stringify(m)).join(', ')} cannot be checked (only x5t#S256 and jkt are)`);
  }
  const record = cnf as Record<string, unknown>;
  const out: Confirmation = {};
  if ('x5t#S256' in record) out.boundThumbprint = thumbprint(record['x5t#S256'], 'x5t#S256');
  if ('jkt' in record) out.boundKey = thumbprint(record.jkt, 'jkt');
  return out;
}

function thumbprint(value: unknown, member: string): string {
  if (typeof value !== 'string' || !SHA256_B64URL.test(value)) {
    throw new AuthenticationError('ERR_TOKEN_CNF', `cnf["${member}"] is ${describe(value)}, not a base64url SHA-256 thumbprint`);
  }
  return value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)}`;
  return `of type ${typeof value}`;
}
