import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { IssuerConfig } from '../config/types.js';
import { AuthenticationError } from './errors.js';

/**
 * Where one issuer's verification keys come from: a configured JWKS URL, a local JWKS file,
 * or the `jwks_uri` in the issuer's metadata (RFC 8414 path-inserted
 * `/.well-known/oauth-authorization-server`, then OIDC `/.well-known/openid-configuration`).
 *
 * Remote sets are jose's `createRemoteJWKSet`: cached, and refetched on a `kid` it does not
 * know — at most once per `cooldown` (the rate limit), so a flood of tokens with made-up key
 * ids cannot turn the gateway into a JWKS-fetching amplifier. That is how a key rotation at
 * the issuer is picked up without a restart.
 */
export function keySourceFor(issuer: IssuerConfig, options: { cooldownMs: number; timeoutMs?: number }): JWTVerifyGetKey {
  if (issuer.jwksFile) return createLocalJWKSet(readJwksFile(issuer.jwksFile));
  const remote = (url: string): JWTVerifyGetKey =>
    createRemoteJWKSet(new URL(url), { cooldownDuration: options.cooldownMs, cacheMaxAge: 10 * 60_000, timeoutDuration: options.timeoutMs ?? 5000 });
  if (issuer.jwksUri) return remote(issuer.jwksUri);

  let resolved: JWTVerifyGetKey | undefined;
  let pending: Promise<JWTVerifyGetKey> | undefined;
  let failedAt = 0;
  return async (header, token) => {
    if (!resolved) {
      // A failed discovery is retried no sooner than the cooldown, for the same reason.
      if (!pending && Date.now() - failedAt < options.cooldownMs) {
        throw new AuthenticationError('ERR_ISSUER_UNAVAILABLE', `metadata discovery for ${issuer.issuer} failed recently; retrying after the cooldown`);
      }
      pending ??= discoverJwksUri(issuer.issuer).then(remote);
      try {
        resolved = await pending;
      } catch (err) {
        failedAt = Date.now();
        throw new AuthenticationError('ERR_ISSUER_UNAVAILABLE', `metadata discovery for ${issuer.issuer} failed: ${(err as Error).message}`, { cause: err });
      } finally {
        pending = undefined;
      }
    }
    return resolved(header, token);
  };
}

/** RFC 8414 §3.1: the well-known suffix goes between the host and the issuer's path. */
export function metadataUrls(issuer: string): string[] {
  const u = new URL(issuer);
  const path = u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '');
  return [
    `${u.origin}/.well-known/oauth-authorization-server${path}`,
    `${u.origin}/.well-known/openid-configuration${path}`,
    ...(path ? [`${u.origin}${path}/.well-known/openid-configuration`] : []),
  ];
}

async function discoverJwksUri(issuer: string): Promise<string> {
  const tried: string[] = [];
  for (const url of metadataUrls(issuer)) {
    const res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5000) }).catch((err: Error) => err);
    if (res instanceof Error || !res.ok) {
      tried.push(`${url}: ${res instanceof Error ? res.message : res.status}`);
      continue;
    }
    const meta = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
    // RFC 8414 §3.3: the metadata must name the issuer it was fetched for.
    if (meta.issuer !== issuer) throw new Error(`${url} names issuer ${String(meta.issuer)}, expected ${issuer}`);
    if (typeof meta.jwks_uri !== 'string') throw new Error(`${url} has no jwks_uri`);
    return meta.jwks_uri;
  }
  throw new Error(`no metadata found (${tried.join('; ')})`);
}

function readJwksFile(path: string): JSONWebKeySet {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as JSONWebKeySet;
  if (!Array.isArray(parsed.keys)) throw new Error(`${path}: expected a JWKS ({"keys": [...]})`);
  return parsed;
}
