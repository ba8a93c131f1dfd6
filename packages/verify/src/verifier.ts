import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet, type JWTVerifyGetKey, errors as joseErrors, jwtVerify } from 'jose';
import { argumentsHash } from './argument-hash.js';
import { type AuditRefClaim, PER_CALL_TOKEN_TYPE, type PerCallClaims } from './claims.js';
import {
  ArgumentsMismatchError,
  AudienceError,
  CallTokenError,
  IssuerError,
  KeySetUnavailableError,
  TokenExpiredError,
  TokenInvalidError,
  TokenLifetimeError,
  TokenMissingError,
  TokenReplayedError,
  ToolMismatchError,
} from './errors.js';
import { FileJtiStoreOnFirstUse } from './file-jti-store.js';
import { type JtiStore, MemoryJtiStore } from './jti-store.js';
import { bindingOf } from './message-binding.js';

export interface VerifierOptions {
  /** The gateway's JWKS, e.g. `https://gw.example.com/.well-known/jwks.json`. Or give `keys`. */
  jwksUrl?: string | URL;
  /** The gateway's public keys, when they are configured rather than fetched. */
  keys?: JSONWebKeySet;
  /** This server's audience: the value toolgate's config names for it (default there: its URL). */
  audience: string;
  /** The gateway's issuer id; when set, `iss` must equal it. */
  issuer?: string;
  /** Longest `exp - iat` accepted, seconds; default 300. */
  maxLifetimeSeconds?: number;
  /** Clock skew allowed on `exp`/`iat`, seconds; default 5. */
  clockToleranceSeconds?: number;
  /**
   * How a used `jti` is remembered, so each token is accepted once. `'file'` (default): in
   * `replayFile`, which survives a restart of this process. `'memory'`: this process only — after
   * a restart, a token captured before it can be replayed until it expires (up to
   * `maxLifetimeSeconds`); say so only when that is acceptable, or in tests.
   */
  replay?: 'file' | 'memory';
  /**
   * The replay file (with `replay: 'file'`): default `.toolgate-verify/used-jti` under the
   * working directory at construction. Its folder is made at construction; the file is opened
   * and locked (one process per file) on the first call that needs a token.
   */
  replayFile?: string;
  /** Flush the replay file to disk before a call is accepted (survives a power loss, not only a crash); default true. */
  replayFsync?: boolean;
  /** Your own store instead (Redis, for several replicas of one audience); excludes `replay` and `replayFile`. */
  jtiStore?: JtiStore;
  /** Clock in ms; for tests. */
  now?: () => number;
}

/** Who is behind a verified call: the user, the agent acting for them, the gateway that relayed it. */
export interface CallChain {
  user?: string;
  agent: string;
  gateway: { issuer: string; instance?: string };
  scopes: string[];
  method: string;
  tool: string;
  requestId: string;
  sessionId?: string;
  traceId?: string;
  /** The instruction the call serves (e.g. `{ 'instruction.id': '…' }`): the client's own id for it, from W3C baggage or `_meta`. */
  instruction?: Record<string, string>;
  audit?: AuditRefClaim;
  jti: string;
  expiresAt: Date;
  claims: PerCallClaims;
}

const ALGORITHMS = ['EdDSA', 'Ed25519', 'ES256'];
const REQUIRED = ['jti', 'iat', 'exp', 'mcp_method', 'tool', 'args_sha256', 'client_id', 'act'];

/**
 * Checks toolgate's per-call tokens: signature (JWKS), issuer, audience (this server alone),
 * expiry and lifetime, that the request is the call the token was minted for (method, tool,
 * argument hash), and that the `jti` is used once. Throws a CallTokenError with a stable code.
 *
 * @example
 * const verifier = new CallVerifier({ jwksUrl: 'http://127.0.0.1:7420/.well-known/jwks.json', audience: 'http://127.0.0.1:7421/mcp' });
 * const chain = await verifier.verify(req.headers.authorization, JSON.parse(body));
 * // chain?.user === 'alice', chain?.agent === 'sales-bot'; undefined for initialize, lists…
 */
export class CallVerifier {
  private readonly keys: JWTVerifyGetKey;
  private readonly jtis: JtiStore;
  private readonly now: () => number;
  private readonly maxLifetime: number;
  private readonly tolerance: number;

  constructor(private readonly options: VerifierOptions) {
    if (typeof options.audience !== 'string' || options.audience === '') throw new TypeError('CallVerifier: audience is required');
    if (options.keys !== undefined) this.keys = createLocalJWKSet(options.keys);
    else if (options.jwksUrl !== undefined) this.keys = createRemoteJWKSet(new URL(options.jwksUrl));
    else throw new TypeError('CallVerifier: give jwksUrl or keys');
    this.now = options.now ?? Date.now;
    this.jtis = replayStore(options, this.now);
    this.maxLifetime = options.maxLifetimeSeconds ?? 300;
    this.tolerance = options.clockToleranceSeconds ?? 5;
  }

  /** True when this JSON-RPC body makes a call that must carry a per-call token. */
  requiresToken(body: unknown): boolean {
    return bindingOf(body) !== undefined;
  }

  /**
   * Verifies the token for the call in `body` (the parsed JSON-RPC message). Resolves to the
   * chain, or to undefined when the message is not a call (no token needed; the server's own
   * transport authentication still applies).
   */
  async verify(authorization: string | undefined, body: unknown): Promise<CallChain | undefined> {
    const binding = bindingOf(body);
    if (binding === undefined) return undefined;
    const token = bearer(authorization);
    const claims = await this.claimsOf(token);
    if (claims.mcp_method !== binding.method || claims.tool !== binding.tool) {
      throw new ToolMismatchError(`token allows ${claims.mcp_method} ${claims.tool}, the request is ${binding.method} ${binding.tool}`);
    }
    if (argumentsHash(binding.arguments) !== claims.args_sha256) {
      throw new ArgumentsMismatchError(`the arguments of ${binding.tool} are not the ones the token was minted for`);
    }
    if (!(await this.jtis.useOnce(claims.jti, (claims.exp + this.tolerance) * 1000))) {
      throw new TokenReplayedError(`token ${claims.jti} was already used`);
    }
    return chainOf(claims);
  }

  private async claimsOf(token: string): Promise<PerCallClaims> {
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        audience: this.options.audience,
        ...(this.options.issuer !== undefined ? { issuer: this.options.issuer } : {}),
        algorithms: ALGORITHMS,
        typ: PER_CALL_TOKEN_TYPE,
        requiredClaims: REQUIRED,
        clockTolerance: this.tolerance,
        currentDate: new Date(this.now()),
      }));
    } catch (err) {
      throw translate(err);
    }
    const claims = payload as PerCallClaims;
    // One audience only: a token that names several upstreams is not a per-call token.
    if (typeof claims.aud !== 'string') throw new AudienceError('the token names more than one audience');
    if (claims.exp - claims.iat > this.maxLifetime) {
      throw new TokenLifetimeError(`the token lives ${claims.exp - claims.iat} s, more than the ${this.maxLifetime} s accepted`);
    }
    if (typeof claims.args_sha256 !== 'string' || typeof claims.tool !== 'string' || typeof claims.act?.sub !== 'string') {
      throw new TokenInvalidError('the token lacks the call binding claims');
    }
    return claims;
  }
}

/** The default replay file, relative to the working directory. */
export const DEFAULT_REPLAY_FILE = '.toolgate-verify/used-jti';

function replayStore(options: VerifierOptions, now: () => number): JtiStore {
  if (options.jtiStore !== undefined) {
    if (options.replay !== undefined || options.replayFile !== undefined) throw new TypeError('CallVerifier: give jtiStore, or replay/replayFile, not both');
    return options.jtiStore;
  }
  const mode = options.replay ?? 'file';
  if (mode === 'memory') {
    if (options.replayFile !== undefined) throw new TypeError("CallVerifier: replayFile is for replay: 'file', not 'memory'");
    return new MemoryJtiStore(now);
  }
  if (mode !== 'file') throw new TypeError(`CallVerifier: replay must be 'file' or 'memory', got ${String(mode)}`);
  const path = options.replayFile ?? DEFAULT_REPLAY_FILE;
  try {
    return new FileJtiStoreOnFirstUse(path, { ...(options.replayFsync !== undefined ? { fsync: options.replayFsync } : {}), now });
  } catch (err) {
    throw new Error(
      `CallVerifier: cannot use the replay file ${path}: ${(err as Error).message}. Give replayFile a writable path of this process's own, a shared jtiStore, or replay: 'memory' (a restart then forgets which tokens were used)`,
      { cause: err },
    );
  }
}

function bearer(authorization: string | undefined): string {
  const match = /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization ?? '');
  if (!match) throw new TokenMissingError('the call needs an Authorization: Bearer per-call token from toolgate');
  return match[1]!;
}

function translate(err: unknown): CallTokenError {
  if (err instanceof CallTokenError) return err;
  if (err instanceof joseErrors.JWTExpired) return new TokenExpiredError('the token has expired', { cause: err });
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return new AudienceError('the token was minted for another upstream', { cause: err });
    if (err.claim === 'iss') return new IssuerError('the token comes from another issuer', { cause: err });
  }
  const detail = err instanceof Error ? err.message : String(err);
  // A fetch that failed (no JOSE error at all), timed out, or brought back no key set.
  if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid || !(err instanceof joseErrors.JOSEError) || /JSON Web Key Set HTTP response/.test(detail)) {
    return new KeySetUnavailableError(`the gateway's keys could not be fetched: ${detail}`, { cause: err });
  }
  return new TokenInvalidError(`the token is not valid: ${detail}`, { cause: err });
}

function chainOf(claims: PerCallClaims): CallChain {
  return {
    ...(claims.sub !== undefined ? { user: claims.sub } : {}),
    agent: claims.act.sub,
    gateway: { issuer: claims.iss, ...(claims.act.act?.sub !== undefined ? { instance: claims.act.act.sub } : {}) },
    scopes: claims.scope ? claims.scope.split(' ') : [],
    method: claims.mcp_method,
    tool: claims.tool,
    requestId: claims.req_id,
    ...(claims.sid !== undefined ? { sessionId: claims.sid } : {}),
    ...(claims.trace_id !== undefined ? { traceId: claims.trace_id } : {}),
    ...(instructionOf(claims.instruction) ?? {}),
    ...(claims.audit !== undefined ? { audit: claims.audit } : {}),
    jti: claims.jti,
    expiresAt: new Date(claims.exp * 1000),
    claims,
  };
}

/** The `instruction` claim when it is an object of strings (anything else is left out, never passed to the server). */
function instructionOf(claim: unknown): { instruction: Record<string, string> } | undefined {
  if (typeof claim !== 'object' || claim === null || Array.isArray(claim)) return undefined;
  const entries = Object.entries(claim);
  if (entries.length === 0 || entries.some(([, v]) => typeof v !== 'string')) return undefined;
  return { instruction: Object.fromEntries(entries) as Record<string, string> };
}
