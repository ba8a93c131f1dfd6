import type { Rejection } from '../pipeline/stages.js';
import { type AuthenticationError, DPOP_PROOF_FAILURES } from './errors.js';

/** What every challenge carries: where the metadata is, and the scope that would be enough. */
export interface ChallengeParams {
  resourceMetadata: string;
  scope: string[];
  /** The request used the DPoP scheme: token failures are then answered in that scheme too. */
  dpopScheme?: boolean;
  /** `algs` of DPoP challenges. */
  dpopAlgs?: string;
  /** The current server nonce, sent with `use_dpop_nonce`. */
  dpopNonce?: string;
}

/**
 * The HTTP answer for a failed authentication, per the MCP authorization spec, RFC 6750 and
 * RFC 9449: no token → 401 with `resource_metadata` (and `scope`) and no error code; a bad
 * token → 401 `invalid_token`; a token in the URL or two `Authorization` headers → 400
 * `invalid_request`; a refused client certificate → 403 (a transport refusal, nothing a bearer
 * token can fix). DPoP: a bad proof → 401 `DPoP error="invalid_dpop_proof", algs="…"`; a
 * missing nonce → 401 `use_dpop_nonce` with `DPoP-Nonce`; a DPoP-bound token sent as Bearer,
 * or a bad token sent with the DPoP scheme → 401 `DPoP error="invalid_token"`.
 */
export function rejectionFor(error: AuthenticationError, params: ChallengeParams): Rejection {
  const base: Record<string, string> = { resource_metadata: params.resourceMetadata };
  if (params.scope.length > 0) base.scope = params.scope.join(' ');
  const dpop = (fields: Record<string, string>): string => challenge('DPoP', { ...fields, ...(params.dpopAlgs ? { algs: params.dpopAlgs } : {}) });
  let status = 401;
  let header: string | undefined;
  const extra: Record<string, string> = {};
  switch (error.code) {
    case 'ERR_TOKEN_MISSING':
      header = bearer(base);
      break;
    case 'ERR_TOKEN_IN_QUERY':
    case 'ERR_AUTHORIZATION_DUPLICATE':
      status = 400;
      header = bearer({ ...base, error: 'invalid_request', error_description: error.told });
      break;
    case 'ERR_CERT_REJECTED':
      status = 403;
      break;
    case 'ERR_ISSUER_UNAVAILABLE':
    case 'ERR_DPOP_REPLAY_CACHE_FULL':
      status = 503;
      break;
    case 'ERR_DPOP_NONCE':
      header = dpop({ error: 'use_dpop_nonce', error_description: error.told });
      if (params.dpopNonce) extra['dpop-nonce'] = params.dpopNonce;
      break;
    case 'ERR_DPOP_BOUND_AS_BEARER':
      header = dpop({ ...base, error: 'invalid_token', error_description: error.told });
      break;
    default:
      if (DPOP_PROOF_FAILURES.has(error.code)) header = dpop({ ...base, error: 'invalid_dpop_proof', error_description: error.told });
      else if (params.dpopScheme) header = dpop({ ...base, error: 'invalid_token', error_description: error.told });
      else header = bearer({ ...base, error: 'invalid_token', error_description: error.told });
  }
  return {
    status,
    ...(header ? { headers: { 'www-authenticate': header, ...extra } } : {}),
    rpcError: { code: -32600, message: status === 401 ? `Unauthorized: ${error.told}` : error.told },
    reason: `${error.code}: ${error.reason}`,
  };
}

/** 403 for a caller whose token lacks scopes this operation needs (RFC 6750 §3.1). */
export function insufficientScopeHeader(scopes: string[], resourceMetadata: string): string {
  return bearer({
    error: 'insufficient_scope',
    scope: scopes.join(' '),
    resource_metadata: resourceMetadata,
    error_description: 'The access token lacks a scope this operation needs',
  });
}

/** `Bearer k="v", …` with quoted-string escaping (RFC 9110 §5.6.4). */
export function bearer(params: Record<string, string>): string {
  return challenge('Bearer', params);
}

function challenge(scheme: string, params: Record<string, string>): string {
  const parts = Object.entries(params).map(([k, v]) => `${k}="${v.replace(/["\\]/g, '\\$&')}"`);
  return parts.length === 0 ? scheme : `${scheme} ${parts.join(', ')}`;
}
