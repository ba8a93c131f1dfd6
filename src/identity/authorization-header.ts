import type { IncomingMessage } from 'node:http';

/** The credentials a request carries: the scheme, the token, the DPoP proof if any. */
export interface PresentedCredentials {
  /** `bearer` or `dpop` when the header has that scheme; undefined for none or another scheme. */
  scheme?: 'bearer' | 'dpop';
  /** The token68 value; undefined when the scheme is not followed by exactly one. */
  token?: string;
  /** The `DPoP` header; undefined when absent. */
  proof?: string;
  /** How many `Authorization` and `DPoP` header lines arrived (Node keeps only the first of each). */
  authorizationLines: number;
  proofLines: number;
}

const SCHEME_NAME = /^(Bearer|DPoP)\b/i;
/** The scheme, then exactly one token68 value. */
const TOKEN = /^(?:Bearer|DPoP) +(\S+) *$/i;

/**
 * Reads `Authorization` and `DPoP`. Node's parsed `req.headers` keeps the first `Authorization`
 * line and joins repeated `DPoP` lines with ", ", so the lines are counted in `rawHeaders`:
 * two credentials in one request must be refused, not resolved by whichever comes first.
 * The scheme is case-insensitive (RFC 9110 §11.1).
 *
 * @example
 * presentedCredentials(req) // { scheme: 'dpop', token: 'eyJ…', proof: 'eyJ…', authorizationLines: 1, proofLines: 1 }
 */
export function presentedCredentials(req: IncomingMessage): PresentedCredentials {
  let authorizationLines = 0;
  let proofLines = 0;
  const raw = req.rawHeaders ?? [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // Cheap length test first: most header names are neither.
    if (name.length === 13 && name.toLowerCase() === 'authorization') authorizationLines++;
    else if (name.length === 4 && name.toLowerCase() === 'dpop') proofLines++;
  }
  const header = req.headers.authorization;
  const proofHeader = req.headers.dpop;
  const proof = typeof proofHeader === 'string' ? proofHeader : undefined;
  // A stand-in request without rawHeaders still counts what its parsed headers hold.
  if (req.rawHeaders === undefined) {
    authorizationLines = header === undefined ? 0 : 1;
    proofLines = proof === undefined ? 0 : 1;
  }
  const scheme = header === undefined ? undefined : SCHEME_NAME.exec(header)?.[1];
  if (scheme === undefined) return { authorizationLines, proofLines, ...(proof === undefined ? {} : { proof }) };
  const token = TOKEN.exec(header!)?.[1];
  return {
    scheme: scheme.length === 6 ? 'bearer' : 'dpop',
    ...(token === undefined ? {} : { token }),
    ...(proof === undefined ? {} : { proof }),
    authorizationLines,
    proofLines,
  };
}
