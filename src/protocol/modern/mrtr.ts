/**
 * Multi round-trip requests (basic/patterns/mrtr.mdx). A modern server never sends a request
 * to the client; it answers tools/call, prompts/get or resources/read with an
 * `input_required` result holding `inputRequests` (elicitation/create, sampling/createMessage,
 * roots/list keyed by server-chosen ids) and/or an opaque `requestState`. The client retries
 * the original request under a new id with `params.inputResponses` (same keys) and the
 * `requestState` echoed byte for byte.
 */

import { isObject } from '../json.js';
import { ErrorCode, type JsonRpcErrorObject, type JsonRpcRequest } from '../jsonrpc.js';

/** The only requests that may be answered with input_required. */
export const MRTR_METHODS: ReadonlySet<string> = new Set(['tools/call', 'prompts/get', 'resources/read']);

/** Methods an input request may carry. */
export const INPUT_REQUEST_METHODS: ReadonlySet<string> = new Set(['elicitation/create', 'sampling/createMessage', 'roots/list']);

export interface RetryInput {
  inputResponses?: Record<string, unknown>;
  requestState?: string;
}

/**
 * Reads the MRTR fields of a retried request. Malformed fields are an in-band -32602.
 * A retry's result must never be cached: it depends on inputs outside the cache key.
 */
export function readRetryInput(request: JsonRpcRequest): RetryInput | { error: JsonRpcErrorObject } {
  const { inputResponses, requestState } = request.params ?? {};
  const out: RetryInput = {};
  if (inputResponses !== undefined) {
    if (!isObject(inputResponses) || !Object.values(inputResponses).every(isObject)) {
      return { error: { code: ErrorCode.InvalidParams, message: 'inputResponses must map ids to result objects' } };
    }
    out.inputResponses = inputResponses;
  }
  if (requestState !== undefined) {
    if (typeof requestState !== 'string') return { error: { code: ErrorCode.InvalidParams, message: 'requestState must be a string' } };
    out.requestState = requestState;
  }
  return out;
}

/** A copy of `request` without `inputResponses` / `requestState` (for a legacy upstream, or for hashing what was authorized). */
export function withoutRetryInput(request: JsonRpcRequest): JsonRpcRequest {
  const params = request.params;
  if (params === undefined || (!('inputResponses' in params) && !('requestState' in params))) return request;
  const { inputResponses: _r, requestState: _s, ...rest } = params;
  return { ...request, params: rest };
}

/**
 * The client capabilities an input request needs: elicitation form (or URL) mode,
 * sampling (with `tools` when it offers tools, `context` for includeContext other than
 * "none"), or roots.
 */
export function requiredCapability(inputRequest: unknown): Record<string, unknown> | undefined {
  if (!isObject(inputRequest)) return undefined;
  const params = isObject(inputRequest.params) ? inputRequest.params : {};
  switch (inputRequest.method) {
    case 'elicitation/create':
      return { elicitation: params.mode === 'url' ? { url: {} } : { form: {} } };
    case 'sampling/createMessage': {
      const sampling: Record<string, unknown> = {};
      if (params.tools !== undefined || params.toolChoice !== undefined) sampling.tools = {};
      if (params.includeContext !== undefined && params.includeContext !== 'none') sampling.context = {};
      return { sampling };
    }
    case 'roots/list':
      return { roots: {} };
    default:
      return undefined;
  }
}

function declares(caps: Record<string, unknown>, need: Record<string, unknown>): boolean {
  const [name, sub] = Object.entries(need)[0]!;
  const have = caps[name];
  if (!isObject(have)) return false;
  if (name === 'elicitation') {
    // An empty elicitation object means form mode only (client/elicitation.mdx, "Capabilities").
    const modes: string[] = Object.keys(have).filter((k) => k === 'form' || k === 'url');
    const wanted = Object.keys(sub as object)[0]!;
    return modes.length === 0 ? wanted === 'form' : modes.includes(wanted);
  }
  return Object.keys(sub as object).every((k) => k in have);
}

/**
 * The capabilities `inputRequests` need that `clientCapabilities` lacks, merged; undefined
 * when nothing is missing. A non-empty answer is what a -32021 error's
 * `data.requiredCapabilities` names (and an input request the client cannot answer must not
 * be sent to it). Unknown input request methods are reported under `unsupported`.
 */
export function missingCapabilities(inputRequests: Record<string, unknown>, clientCapabilities: Record<string, unknown>): Record<string, unknown> | undefined {
  const missing: Record<string, Record<string, unknown>> = {};
  for (const request of Object.values(inputRequests)) {
    const need = requiredCapability(request);
    if (need === undefined) {
      missing.unsupported = { ...(missing.unsupported ?? {}), [String(isObject(request) ? request.method : request)]: {} };
      continue;
    }
    if (declares(clientCapabilities, need)) continue;
    const [name, sub] = Object.entries(need)[0]!;
    missing[name] = { ...(missing[name] ?? {}), ...(sub as Record<string, unknown>) };
  }
  return Object.keys(missing).length > 0 ? missing : undefined;
}

/**
 * Turns a 2025-era server→client request (elicitation/create, sampling/createMessage,
 * roots/list, as a legacy upstream sends it) into a 2026 input request: no id, and no
 * `elicitationId` (2026 URL mode correlates through requestState instead).
 */
export function inputRequestFromLegacy(request: JsonRpcRequest): { method: string; params?: Record<string, unknown> } | undefined {
  if (!INPUT_REQUEST_METHODS.has(request.method)) return undefined;
  if (request.params === undefined) return { method: request.method };
  const { elicitationId: _id, ...params } = request.params;
  return { method: request.method, params };
}
