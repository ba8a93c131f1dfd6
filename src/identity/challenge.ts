import type { Rejection } from '../pipeline/stages.js';
import type { AuthenticationError } from './errors.js';

/** What every challenge carries: where the metadata is, and the scope that would be enough. */
export interface ChallengeParams {
  resourceMetadata: string;
  scope: string[];
}

/**
 * The HTTP answer for a failed authentication, per the MCP authorization spec and RFC 6750:
 * no token → 401 with `resource_metadata` (and `scope`) and no error code; a bad token → 401
 * `invalid_token`; a token in the URL → 400 `invalid_request`; a refused client certificate →
 * 403 (a transport refusal, nothing a bearer token can fix).
 */
export function rejectionFor(error: AuthenticationError, params: ChallengeParams): Rejection {
  const base: Record<string, string> = { resource_metadata: params.resourceMetadata };
  if (params.scope.length > 0) base.scope = params.scope.join(' ');
  let status = 401;
  let header: string | undefined;
  switch (error.code) {
    case 'ERR_TOKEN_MISSING':
      header = bearer(base);
      break;
    case 'ERR_TOKEN_IN_QUERY':
      status = 400;
      header = bearer({ ...base, error: 'invalid_request', error_description: error.told });
      break;
    case 'ERR_CERT_REJECTED':
      status = 403;
      break;
    case 'ERR_ISSUER_UNAVAILABLE':
      status = 503;
      break;
    default:
      header = bearer({ ...base, error: 'invalid_token', error_description: error.told });
  }
  return {
    status,
    ...(header ? { headers: { 'www-authenticate': header } } : {}),
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
  const parts = Object.entries(params).map(([k, v]) => `${k}="${v.replace(/["\\]/g, '\\$&')}"`);
  return parts.length === 0 ? 'Bearer' : `Bearer ${parts.join(', ')}`;
}
