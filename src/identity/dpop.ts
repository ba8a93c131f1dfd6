import { createHash } from 'node:crypto';
import { EmbeddedJWK, errors, type JWK, type JWSHeaderParameters, type JWTPayload, jwtVerify } from 'jose';
import type { DpopConfig } from '../config/types.js';
import { DpopNonces } from './dpop-nonce.js';
import { ProofReplayCache } from './dpop-replay.js';
import { AuthenticationError } from './errors.js';

/** `auth.dpop` when the config leaves it out; the same values as the config schema's defaults. */
export const DPOP_DEFAULTS: DpopConfig = {
  algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'],
  maxAgeSeconds: 60,
  maxFutureSeconds: 5,
  nonce: 'off',
  nonceRotationSeconds: 300,
  replayCacheMaxEntries: 100_000,
};

/** What one request asks the proof to match. */
export interface ProofContext {
  /** The request's HTTP method (`htm`). */
  method: string;
  /** base64url SHA-256 of the access token (`ath`); the verified-token cache key is the same value. */
  tokenHash: string;
  /** The token's `cnf.jkt`; undefined for an unbound token presented with the DPoP scheme. */
  boundKey: string | undefined;
}

/** JWK members that only a private (or symmetric) key has: a proof must carry a public key. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const MAX_JTI_LENGTH = 256;

/**
 * Verifies DPoP proofs (RFC 9449 §4.3, §7.1) for one endpoint. A proof is a JWT with
 * `typ: dpop+jwt`, an asymmetric algorithm from `auth.dpop.algorithms`, and its public key in
 * the `jwk` header; it must be signed by that key, name this request's method (`htm`) and URL
 * (`htu`, compared after RFC 3986 normalization without query and fragment), be recent
 * (`iat`), carry the access token's hash (`ath`), be signed by the key the token is bound to
 * (`cnf.jkt` = RFC 7638 thumbprint), carry the current server nonce when nonces are required,
 * and never have been seen before (`jti`). Throws AuthenticationError with the first failure.
 *
 * @example
 * const dpop = new DpopVerifier(DPOP_DEFAULTS);
 * dpop.bind('https://gw.example/mcp');
 * await dpop.verify(req.headers.dpop, { method: 'POST', tokenHash, boundKey: cnf.jkt });
 */
export class DpopVerifier {
  private endpoint = '';
  private readonly replay: ProofReplayCache;
  private readonly nonces: DpopNonces | undefined;
  private readonly algorithms: string[];

  constructor(
    private readonly config: DpopConfig,
    private readonly now: () => number = Date.now,
  ) {
    this.algorithms = config.algorithms;
    this.replay = new ProofReplayCache(config.replayCacheMaxEntries, (config.maxAgeSeconds + config.maxFutureSeconds + 1) * 1000, now);
    this.nonces = config.nonce === 'required' ? new DpopNonces(config.nonceRotationSeconds * 1000, now) : undefined;
  }

  /** The endpoint's public URL, what `htu` must name; known once the listener is up. */
  bind(endpointUrl: string): void {
    this.endpoint = normalizedHtu(endpointUrl) ?? endpointUrl;
  }

  /** `algs` of the DPoP challenge: the algorithms a proof may use. */
  get algs(): string {
    return this.algorithms.join(' ');
  }

  /** The nonce to send in `DPoP-Nonce`, when nonces are required. */
  get nonce(): string | undefined {
    return this.nonces?.current;
  }

  async verify(proof: string | undefined, ctx: ProofContext): Promise<void> {
    if (proof === undefined) throw new AuthenticationError('ERR_DPOP_PROOF_MISSING', 'DPoP scheme or DPoP-bound token without a DPoP header');
    let jwk: JWK | undefined;
    let payload: JWTPayload;
    try {
      const verified = await jwtVerify(
        proof,
        (header: JWSHeaderParameters, token) => {
          jwk = publicJwk(header.jwk);
          return EmbeddedJWK(header, token);
        },
        { typ: 'dpop+jwt', algorithms: this.algorithms, requiredClaims: ['jti', 'htm', 'htu', 'iat'], currentDate: new Date(this.now()) },
      );
      payload = verified.payload;
    } catch (err) {
      throw invalidProof(err, this.algorithms);
    }
    const { jti, htm, htu, iat } = payload as { jti: unknown; htm: unknown; htu: unknown; iat: number };
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) {
      throw new AuthenticationError('ERR_DPOP_PROOF_INVALID', `jti must be a string of 1 to ${MAX_JTI_LENGTH} characters`);
    }
    if (htm !== ctx.method) throw new AuthenticationError('ERR_DPOP_METHOD', `htm ${JSON.stringify(htm)} is not the request method ${ctx.method}`);
    const target = typeof htu === 'string' ? normalizedHtu(htu) : undefined;
    if (target !== this.endpoint) throw new AuthenticationError('ERR_DPOP_URL', `htu ${JSON.stringify(htu)} is not this endpoint's URL ${this.endpoint}`);
    const nowSeconds = this.now() / 1000;
    if (iat < nowSeconds - this.config.maxAgeSeconds) {
      throw new AuthenticationError('ERR_DPOP_IAT', `iat ${iat} is ${Math.round(nowSeconds - iat)} s old (max_age_seconds ${this.config.maxAgeSeconds})`);
    }
    if (iat > nowSeconds + this.config.maxFutureSeconds) {
      throw new AuthenticationError('ERR_DPOP_IAT', `iat ${iat} is ${Math.round(iat - nowSeconds)} s in the future (max_future_seconds ${this.config.maxFutureSeconds})`);
    }
    if (payload.ath !== ctx.tokenHash) {
      throw new AuthenticationError('ERR_DPOP_ATH', `ath ${JSON.stringify(payload.ath)} is not the hash of the presented access token (${ctx.tokenHash})`);
    }
    const thumbprint = jwkThumbprint(jwk!);
    if (ctx.boundKey !== undefined && thumbprint !== ctx.boundKey) {
      throw new AuthenticationError('ERR_DPOP_KEY', `proof key thumbprint ${thumbprint} is not the token's cnf.jkt ${ctx.boundKey}`);
    }
    if (this.nonces && !this.nonces.accepts(payload.nonce)) {
      throw new AuthenticationError('ERR_DPOP_NONCE', payload.nonce === undefined ? 'proof without a nonce; nonces are required' : 'proof nonce is not a current server nonce');
    }
    // Last: only a proof that passed everything is remembered (check and record with no await between).
    const seen = this.replay.record(replayKey(thumbprint, jti));
    if (seen === 'replayed') throw new AuthenticationError('ERR_DPOP_REPLAY', `jti ${JSON.stringify(jti)} of key ${thumbprint} was already used within the window`);
    if (seen === 'full') {
      throw new AuthenticationError('ERR_DPOP_REPLAY_CACHE_FULL', `${this.replay.size} proofs within the window fill replay_cache_max_entries; refused rather than forget one`);
    }
  }
}

/**
 * The replay cache key: 132 bits of SHA-256 over key thumbprint and jti. A fixed 22 characters
 * whatever the jti's length, and a proof's jti only collides with another of the same key —
 * 100,000 entries take about 15 MB of heap this way, against 56 MB keeping the two strings.
 */
function replayKey(thumbprint: string, jti: string): string {
  return createHash('sha256').update(thumbprint).update(jti).digest('base64url').slice(0, 22);
}

/** The `jwk` header, refused unless it is a public key toolgate can take a thumbprint of. */
function publicJwk(jwk: unknown): JWK {
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) throw new AuthenticationError('ERR_DPOP_PROOF_INVALID', 'no jwk header (the public key) in the proof');
  const held = PRIVATE_MEMBERS.filter((m) => m in jwk);
  if (held.length > 0) throw new AuthenticationError('ERR_DPOP_PROOF_INVALID', `the jwk header holds private key members (${held.join(', ')})`);
  return jwk as JWK;
}

/** RFC 7638 JWK SHA-256 thumbprint: the required members, in lexicographic order, no whitespace. */
export function jwkThumbprint(jwk: JWK): string {
  let members: Record<string, unknown>;
  if (jwk.kty === 'EC') members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  else if (jwk.kty === 'OKP') members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  else if (jwk.kty === 'RSA') members = { e: jwk.e, kty: jwk.kty, n: jwk.n };
  else throw new AuthenticationError('ERR_DPOP_PROOF_INVALID', `jwk kty ${JSON.stringify(jwk.kty)} is not EC, OKP or RSA`);
  if (Object.values(members).some((v) => typeof v !== 'string')) throw new AuthenticationError('ERR_DPOP_PROOF_INVALID', 'jwk lacks a member its thumbprint needs');
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/**
 * `htu` as RFC 9449 §4.3 compares it: without query and fragment, after syntax- and
 * scheme-based normalization (RFC 3986 §6.2.2, §6.2.3): case of scheme and host, default port,
 * dot segments, empty path → `/` (WHATWG URL does these), percent-encoding in upper case and
 * unreserved characters decoded. Undefined when it is not an http(s) URL.
 */
export function normalizedHtu(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const path = url.pathname.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const c = String.fromCharCode(Number.parseInt(hex, 16));
    return /[A-Za-z0-9._~-]/.test(c) ? c : `%${hex.toUpperCase()}`;
  });
  return `${url.protocol}//${url.host}${path}`;
}

function invalidProof(err: unknown, algorithms: string[]): AuthenticationError {
  if (err instanceof AuthenticationError) return err;
  const message = (err as Error).message;
  if (err instanceof errors.JOSEAlgNotAllowed) return new AuthenticationError('ERR_DPOP_PROOF_INVALID', `alg not in auth.dpop.algorithms (${algorithms.join(', ')}): ${message}`);
  if (err instanceof errors.JWTClaimValidationFailed) return new AuthenticationError('ERR_DPOP_PROOF_INVALID', `${err.claim}: ${message}`);
  if (err instanceof errors.JWSSignatureVerificationFailed) return new AuthenticationError('ERR_DPOP_PROOF_INVALID', 'signature does not verify under the jwk header');
  const code = (err as { code?: string }).code ?? 'error';
  return new AuthenticationError('ERR_DPOP_PROOF_INVALID', `${code}: ${message}`, { cause: err });
}
