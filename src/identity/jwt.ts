import { decodeJwt, decodeProtectedHeader, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { IssuerConfig } from '../config/types.js';
import { AuthenticationError, type AuthFailureCode } from './errors.js';

export interface TrustedIssuer {
  config: IssuerConfig;
  keys: JWTVerifyGetKey;
}

export interface JwtRules {
  /** The canonical resource URI `aud` must contain (RFC 8707). */
  resource: string;
  tokenTypes: string[];
  clockSkewSeconds: number;
  maxTokenLifetimeSeconds: number;
  requiredClaims: string[];
  now?: () => number;
}

/** A JWT is three base64url parts; anything else is handed to introspection (opaque). */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(token);
}

/**
 * Verifies a JWT access token: the issuer is picked by the (unverified) `iss` and must be one
 * configured, exactly; then jose checks the signature with that issuer's keys and algorithm
 * allow-list, `aud`, `exp`/`nbf` with the skew, and the required claims; then the checks jose
 * has no option for: `typ` among several values, `iat` not in the future, the lifetime bound,
 * and `client_id` or `azp`. Returns the payload or throws AuthenticationError.
 *
 * @example
 * const issuers = new Map([[iss, { config: issuerConfig, keys: keySourceFor(issuerConfig, { cooldownMs: 30_000 }) }]]);
 * const claims = await verifyJwt(token, issuers, { resource: 'https://gw.example/mcp', tokenTypes: ['at+jwt'],
 *   clockSkewSeconds: 30, maxTokenLifetimeSeconds: 86_400, requiredClaims: ['sub', 'jti'] });
 */
export async function verifyJwt(token: string, issuers: ReadonlyMap<string, TrustedIssuer>, rules: JwtRules): Promise<JWTPayload> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let unverified: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
    unverified = decodeJwt(token);
  } catch (err) {
    throw new AuthenticationError('ERR_TOKEN_MALFORMED', `not a decodable JWT: ${(err as Error).message}`);
  }
  if (typeof header.alg !== 'string' || header.alg.toLowerCase() === 'none') {
    throw new AuthenticationError('ERR_TOKEN_ALG', `alg ${JSON.stringify(header.alg)} is never accepted (unsecured JWT)`);
  }
  const issuer = typeof unverified.iss === 'string' ? issuers.get(unverified.iss) : undefined;
  if (!issuer) throw new AuthenticationError('ERR_TOKEN_ISSUER', `iss ${JSON.stringify(unverified.iss)} is not a configured issuer`);
  if (!issuer.config.algorithms.includes(header.alg)) {
    throw new AuthenticationError('ERR_TOKEN_ALG', `alg ${header.alg} is not in issuer ${issuer.config.issuer}'s allow-list (${issuer.config.algorithms.join(', ')})`);
  }

  const nowSeconds = Math.floor((rules.now?.() ?? Date.now()) / 1000);
  let payload: JWTPayload;
  let typ: string | undefined;
  try {
    const verified = await jwtVerify(token, issuer.keys, {
      issuer: issuer.config.issuer,
      audience: rules.resource,
      algorithms: issuer.config.algorithms,
      clockTolerance: rules.clockSkewSeconds,
      requiredClaims: ['exp', ...rules.requiredClaims],
      currentDate: new Date(nowSeconds * 1000),
    });
    payload = verified.payload;
    typ = verified.protectedHeader.typ;
  } catch (err) {
    throw translate(err, unverified, header.kid);
  }

  if (rules.tokenTypes.length > 0 && !rules.tokenTypes.some((t) => normalizeTyp(t) === normalizeTyp(typ ?? ''))) {
    throw new AuthenticationError('ERR_TOKEN_TYPE', `typ ${JSON.stringify(typ)} is not one of ${rules.tokenTypes.join(', ')}`);
  }
  const iat = payload.iat;
  if (iat !== undefined && iat > nowSeconds + rules.clockSkewSeconds) {
    throw new AuthenticationError('ERR_TOKEN_NOT_YET_VALID', `iat ${iat} is ${iat - nowSeconds} s in the future (skew allowed: ${rules.clockSkewSeconds} s)`);
  }
  const lifetime = payload.exp! - (iat ?? payload.nbf ?? nowSeconds);
  if (lifetime > rules.maxTokenLifetimeSeconds) {
    throw new AuthenticationError('ERR_TOKEN_LIFETIME', `lifetime ${lifetime} s exceeds the maximum of ${rules.maxTokenLifetimeSeconds} s`);
  }
  if (typeof payload.client_id !== 'string' && typeof payload.azp !== 'string') {
    throw new AuthenticationError('ERR_TOKEN_CLAIMS', 'missing required claim: client_id or azp');
  }
  return payload;
}

function translate(err: unknown, unverified: JWTPayload, kid: string | undefined): AuthenticationError {
  if (err instanceof AuthenticationError) return err;
  const code = (err as { code?: string }).code;
  const message = (err as Error).message;
  const map: Record<string, AuthFailureCode> = {
    ERR_JOSE_ALG_NOT_ALLOWED: 'ERR_TOKEN_ALG',
    ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'ERR_TOKEN_SIGNATURE',
    ERR_JWKS_NO_MATCHING_KEY: 'ERR_TOKEN_UNKNOWN_KEY',
    ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'ERR_TOKEN_UNKNOWN_KEY',
    ERR_JWT_EXPIRED: 'ERR_TOKEN_EXPIRED',
    ERR_JWS_INVALID: 'ERR_TOKEN_MALFORMED',
    ERR_JWT_INVALID: 'ERR_TOKEN_MALFORMED',
    ERR_JOSE_NOT_SUPPORTED: 'ERR_TOKEN_ALG',
    ERR_JWKS_TIMEOUT: 'ERR_ISSUER_UNAVAILABLE',
    ERR_JWKS_INVALID: 'ERR_ISSUER_UNAVAILABLE',
  };
  if (err instanceof errors.JWTClaimValidationFailed) {
    const claim = err.claim;
    const c: AuthFailureCode = claim === 'aud' ? 'ERR_TOKEN_AUDIENCE' : claim === 'nbf' ? 'ERR_TOKEN_NOT_YET_VALID' : claim === 'iss' ? 'ERR_TOKEN_ISSUER' : 'ERR_TOKEN_CLAIMS';
    const detail = claim === 'aud' ? ` (aud was ${JSON.stringify(unverified.aud)})` : claim === 'nbf' ? ` (nbf ${String(unverified.nbf)})` : '';
    return new AuthenticationError(c, `${message}${detail}`, { cause: err });
  }
  if (code === 'ERR_JWT_EXPIRED') return new AuthenticationError('ERR_TOKEN_EXPIRED', `${message} (exp ${String(unverified.exp)})`, { cause: err });
  if (code === 'ERR_JWKS_NO_MATCHING_KEY')
    return new AuthenticationError('ERR_TOKEN_UNKNOWN_KEY', `no key with kid ${JSON.stringify(kid)} in the issuer's JWKS (refetched at most once per cooldown)`, { cause: err });
  if (code && map[code]) return new AuthenticationError(map[code], `${code}: ${message}`, { cause: err });
  if (err instanceof TypeError) return new AuthenticationError('ERR_ISSUER_UNAVAILABLE', `fetching the issuer's keys failed: ${message}`, { cause: err });
  return new AuthenticationError('ERR_TOKEN_MALFORMED', `${code ?? 'error'}: ${message}`, { cause: err });
}

function normalizeTyp(value: string): string {
  const v = value.toLowerCase();
  return v.startsWith('application/') ? v.slice('application/'.length) : v;
}
