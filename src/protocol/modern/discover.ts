/**
 * `server/discover` (server/discover.mdx): every modern server implements it. The request
 * carries only the envelope; the result names the supported versions, the capabilities, the
 * server's identity in `_meta`, optional instructions, and caching hints.
 */

import { isObject } from '../json.js';
import type { Implementation } from './envelope.js';
import { MetaKey } from './protocol.js';
import type { CacheScope } from './result.js';

export interface DiscoverInput {
  supportedVersions: readonly string[];
  capabilities: Record<string, unknown>;
  serverInfo: Implementation;
  instructions?: string;
  ttlMs?: number;
  cacheScope?: CacheScope;
}

export interface Discovered {
  supportedVersions: string[];
  capabilities: Record<string, unknown>;
  serverInfo?: Implementation;
  instructions?: string;
  ttlMs?: number;
  cacheScope?: CacheScope;
}

/**
 * Builds a DiscoverResult. Defaults: `ttlMs` 0 and `cacheScope` "private" (what the gateway
 * advertises may depend on the caller).
 *
 * @example discoverResult({ supportedVersions: ['2026-07-28'], capabilities: { tools: {} }, serverInfo: { name: 'toolgate', version: '0.1.0' } })
 */
export function discoverResult(input: DiscoverInput): Record<string, unknown> {
  const result: Record<string, unknown> = {
    resultType: 'complete',
    supportedVersions: [...input.supportedVersions],
    capabilities: input.capabilities,
    ttlMs: input.ttlMs ?? 0,
    cacheScope: input.cacheScope ?? 'private',
    _meta: { [MetaKey.serverInfo]: input.serverInfo },
  };
  if (input.instructions !== undefined) result.instructions = input.instructions;
  return result;
}

/**
 * Reads an upstream's DiscoverResult. Anything that is not one (no non-empty string list of
 * versions, no capabilities object, a resultType other than complete) is refused with the
 * reason; a prober treats that as "not a modern server".
 */
export function parseDiscoverResult(result: unknown): ({ ok: true } & Discovered) | { ok: false; reason: string } {
  if (!isObject(result)) return { ok: false, reason: 'the result is not an object' };
  if (result.resultType !== undefined && result.resultType !== 'complete') {
    return { ok: false, reason: `resultType is ${JSON.stringify(result.resultType)}, not "complete"` };
  }
  const versions = result.supportedVersions;
  if (!Array.isArray(versions) || versions.length === 0 || !versions.every((v) => typeof v === 'string')) {
    return { ok: false, reason: 'supportedVersions must be a non-empty array of strings' };
  }
  if (!isObject(result.capabilities)) return { ok: false, reason: 'capabilities must be an object' };
  const out: { ok: true } & Discovered = { ok: true, supportedVersions: versions as string[], capabilities: result.capabilities };
  const info = isObject(result._meta) ? result._meta[MetaKey.serverInfo] : undefined;
  if (isObject(info) && typeof info.name === 'string' && typeof info.version === 'string') out.serverInfo = info as Implementation;
  if (typeof result.instructions === 'string') out.instructions = result.instructions;
  if (typeof result.ttlMs === 'number' && Number.isFinite(result.ttlMs)) out.ttlMs = Math.max(0, result.ttlMs);
  if (result.cacheScope === 'public' || result.cacheScope === 'private') out.cacheScope = result.cacheScope;
  return out;
}
