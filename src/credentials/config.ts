import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import type { ConfigFile } from '../config/schema.js';
import type { CredentialsConfig, UpstreamCredentialConfig, UpstreamTlsConfig } from '../config/types.js';

type FileUpstream = ConfigFile['upstreams'][number];

/**
 * The `credentials:` section and each upstream's `credential:` as the gateway reads them.
 * Defaults: minted when `credentials:` is present, none otherwise; audience and resource default
 * to the upstream's URL (a stdio upstream's: urn:toolgate:upstream:<id>; its token travels in
 * the request's `_meta`, since stdio has no headers). An upstream that asks
 * for minted tokens without a `credentials:` section gets the default issuer settings.
 */
export function resolveCredentials(file: ConfigFile, folder: string): CredentialsConfig | undefined {
  const section = file.credentials;
  const wantsMinted = file.upstreams.some((u) => u.credential?.mode === 'minted');
  if (section === undefined && !wantsMinted) return undefined;
  const s = section ?? { algorithm: 'Ed25519' as const, keys: {}, token_lifetime_seconds: 30, max_lifetime_seconds: 300, rotation_overlap_seconds: 3600 };
  const keys: CredentialsConfig['keys'] =
    s.keys.ephemeral === true
      ? { source: 'ephemeral' }
      : s.keys.env !== undefined
        ? { source: 'env', variable: s.keys.env }
        : { source: 'file', path: pathIn(folder, s.keys.file ?? '.toolgate/signing-keys.json') };
  return {
    issuer: section?.issuer ?? file.listener.public_url ?? 'toolgate',
    instance: section?.instance ?? `toolgate@${hostname()}`,
    algorithm: s.algorithm,
    keys,
    tokenLifetimeSeconds: Math.min(s.token_lifetime_seconds, s.max_lifetime_seconds),
    maxLifetimeSeconds: s.max_lifetime_seconds,
    rotationOverlapSeconds: s.rotation_overlap_seconds,
  };
}

export function resolveUpstreamCredential(upstream: FileUpstream, credentials: CredentialsConfig | undefined): UpstreamCredentialConfig | undefined {
  const c = upstream.credential;
  const mode = c?.mode ?? (credentials !== undefined ? 'minted' : 'none');
  const url = upstream.url ?? `urn:toolgate:upstream:${upstream.id}`;
  switch (mode) {
    case 'none':
      return c === undefined ? undefined : { mode: 'none' };
    case 'static':
      return { mode: 'static', header: c!.header!, value: c!.value! };
    case 'token_exchange':
      return {
        mode: 'token_exchange',
        tokenEndpoint: c!.token_endpoint!,
        clientId: c!.client_id!,
        clientSecret: c!.client_secret!,
        resource: c!.resource ?? url,
        ...(c!.audience !== undefined ? { audience: c!.audience } : {}),
        scopes: c!.scopes,
      };
    case 'minted': {
      const max = credentials?.maxLifetimeSeconds ?? 300;
      return {
        mode: 'minted',
        audience: c?.audience ?? url,
        // Never longer than the configured maximum, whatever the upstream asks.
        lifetimeSeconds: Math.min(c?.lifetime_seconds ?? credentials?.tokenLifetimeSeconds ?? 30, max),
        scopes: c?.scopes ?? {},
      };
    }
  }
}

export function resolveUpstreamTls(upstream: FileUpstream, folder: string): UpstreamTlsConfig | undefined {
  const tls = upstream.tls;
  if (tls === undefined) return undefined;
  return {
    ...(tls.cert !== undefined ? { cert: pathIn(folder, tls.cert) } : {}),
    ...(tls.key !== undefined ? { key: pathIn(folder, tls.key) } : {}),
    ...(tls.ca !== undefined ? { ca: pathIn(folder, tls.ca) } : {}),
  };
}

function pathIn(folder: string, path: string): string {
  return isAbsolute(path) ? path : resolve(folder, path);
}

/** The credential and TLS keys of one resolved upstream; keys left out when not configured. */
export function upstreamCredentialKeys(
  upstream: FileUpstream,
  credentials: CredentialsConfig | undefined,
  folder: string,
): { credential?: UpstreamCredentialConfig; tls?: UpstreamTlsConfig } {
  const credential = resolveUpstreamCredential(upstream, credentials);
  const tls = resolveUpstreamTls(upstream, folder);
  return { ...(credential !== undefined ? { credential } : {}), ...(tls !== undefined ? { tls } : {}) };
}
