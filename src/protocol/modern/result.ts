/**
 * Result shapes of 2026-07-28: every result names its `resultType` (basic/index.mdx,
 * "ResultType"), cacheable results carry `ttlMs` and `cacheScope`
 * (server/utilities/caching.mdx), and servers SHOULD name themselves in
 * `_meta['io.modelcontextprotocol/serverInfo']`. Legacy results lack all three; an absent
 * `resultType` reads as "complete".
 */

import { isObject } from '../json.js';
import type { Implementation } from './envelope.js';
import { MetaKey } from './protocol.js';

export type CacheScope = 'public' | 'private';

/** Methods whose complete results must carry caching hints. */
export const CACHEABLE_METHODS: ReadonlySet<string> = new Set(['server/discover', 'tools/list', 'prompts/list', 'resources/list', 'resources/templates/list', 'resources/read']);

export type ResultClass = { kind: 'complete' } | { kind: 'input_required'; inputRequests?: Record<string, unknown>; requestState?: string } | { kind: 'invalid'; reason: string };

/**
 * Classifies a result by `resultType`. Absent means complete (a legacy server); an
 * `input_required` result must carry `inputRequests` or `requestState`; any other value is
 * one this gateway does not know and must be treated as invalid.
 */
export function classifyResult(result: Record<string, unknown>): ResultClass {
  const type = result.resultType;
  if (type === undefined || type === 'complete') return { kind: 'complete' };
  if (type !== 'input_required') return { kind: 'invalid', reason: `unknown resultType ${JSON.stringify(type)}` };
  const { inputRequests, requestState } = result;
  if (inputRequests !== undefined && !isObject(inputRequests)) return { kind: 'invalid', reason: 'inputRequests must be an object' };
  if (requestState !== undefined && typeof requestState !== 'string') return { kind: 'invalid', reason: 'requestState must be a string' };
  if (inputRequests === undefined && requestState === undefined) {
    return { kind: 'invalid', reason: 'an input_required result needs inputRequests or requestState' };
  }
  const out: ResultClass = { kind: 'input_required' };
  if (inputRequests !== undefined) out.inputRequests = inputRequests;
  if (requestState !== undefined) out.requestState = requestState;
  return out;
}

export interface MarkOptions {
  /** The request's method; cacheable methods get caching hints. */
  method?: string;
  /** Freshness hint; default: the upstream's valid value, else 0. */
  ttlMs?: number;
  /** Default: the upstream's valid value, else 'private'. Pass 'private' for anything filtered per caller. */
  cacheScope?: CacheScope;
  /** Replaces whatever identity the upstream put in `_meta`. */
  serverInfo?: Implementation;
}

/**
 * Makes a result fit for a modern client: `resultType` (kept when already set, else
 * "complete"), caching hints on complete results of cacheable methods (interim
 * input_required results carry none), and the gateway's own `serverInfo`.
 *
 * @example markResult({ tools: [] }, { method: 'tools/list', cacheScope: 'private' })
 * // → { tools: [], resultType: 'complete', ttlMs: 0, cacheScope: 'private' }
 */
export function markResult(result: Record<string, unknown>, options: MarkOptions = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { ...result };
  if (typeof out.resultType !== 'string') out.resultType = 'complete';
  if (out.resultType !== 'complete') {
    delete out.ttlMs;
    delete out.cacheScope;
  } else if (options.method !== undefined && CACHEABLE_METHODS.has(options.method)) {
    const upstreamTtl = typeof out.ttlMs === 'number' && Number.isFinite(out.ttlMs) && out.ttlMs >= 0 ? out.ttlMs : 0;
    out.ttlMs = options.ttlMs ?? upstreamTtl;
    out.cacheScope = options.cacheScope ?? (out.cacheScope === 'public' || out.cacheScope === 'private' ? out.cacheScope : 'private');
  }
  if (options.serverInfo !== undefined) {
    out._meta = { ...(isObject(out._meta) ? out._meta : {}), [MetaKey.serverInfo]: options.serverInfo };
  }
  return out;
}

/**
 * Makes a complete modern result fit for a legacy client: drops `resultType`, the caching
 * hints and the upstream's `serverInfo` (legacy identity travels in `initialize`). An
 * input_required or unknown result cannot be unmarked: the gateway has to resolve it first
 * (see the MRTR notes in docs/protocol-2026-07-28.md).
 */
export function unmarkResult(result: Record<string, unknown>): { ok: true; result: Record<string, unknown> } | { ok: false; reason: string } {
  const cls = classifyResult(result);
  if (cls.kind === 'invalid') return { ok: false, reason: cls.reason };
  if (cls.kind === 'input_required') return { ok: false, reason: 'an input_required result has no legacy form' };
  const { resultType: _t, ttlMs: _ttl, cacheScope: _scope, ...out } = result;
  if (isObject(out._meta) && MetaKey.serverInfo in out._meta) {
    const { [MetaKey.serverInfo]: _info, ...meta } = out._meta;
    if (Object.keys(meta).length > 0) out._meta = meta;
    else delete out._meta;
  }
  return { ok: true, result: out };
}
