import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createLocalJWKSet, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import type { TrustedIssuer } from './jwt.js';

/** The development issuer's `iss`: not a URL anyone could mistake for a real authorization server. */
export const DEV_ISSUER = 'urn:toolgate:dev-issuer';

/** What `.toolgate/dev-issuer.json` holds: the private key, and the audience the gateway expects. */
export interface DevIssuerFile {
  issuer: string;
  kid: string;
  alg: 'EdDSA';
  privateJwk: JWK;
  publicJwk: JWK;
  /** The gateway's canonical resource URI, written when the gateway starts. */
  audience?: string;
}

/**
 * A development token issuer for `toolgate demo` and `toolgate token`: an Ed25519 key pair
 * created on first use and kept in a file (mode 0600) so the token command signs with the key
 * the gateway trusts. Only ever enabled by `auth.dev_issuer: true` (the demo sets it); never
 * by `serve` on its own.
 */
export async function loadOrCreateDevIssuer(path: string): Promise<DevIssuerFile> {
  if (existsSync(path)) return readDevIssuer(path);
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const kid = `dev-${randomUUID().slice(0, 8)}`;
  const file: DevIssuerFile = {
    issuer: DEV_ISSUER,
    kid,
    alg: 'EdDSA',
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'EdDSA' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' },
  };
  writeDevIssuer(path, file);
  return file;
}

export function readDevIssuer(path: string): DevIssuerFile {
  const file = JSON.parse(readFileSync(path, 'utf8')) as DevIssuerFile;
  if (file.issuer !== DEV_ISSUER || !file.privateJwk || !file.publicJwk) throw new Error(`${path} is not a toolgate development issuer file`);
  return file;
}

export function writeDevIssuer(path: string, file: DevIssuerFile): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** The dev issuer as a trusted issuer of the gateway: its public key, nothing fetched. */
export function devTrustedIssuer(file: DevIssuerFile): TrustedIssuer {
  return {
    config: { issuer: file.issuer, algorithms: ['EdDSA', 'Ed25519'] },
    keys: createLocalJWKSet({ keys: [file.publicJwk] }),
  };
}

export interface DevTokenRequest {
  agent: string;
  user?: string;
  tenant?: string;
  scopes: string[];
  ttlSeconds: number;
}

/**
 * Signs an RFC 9068 access token (`typ: at+jwt`) the way a real authorization server would:
 * `sub` is the user (or the agent when there is none), `client_id` the agent, a fresh `jti`.
 *
 * @example
 * const token = await signDevToken(readDevIssuer('.toolgate/dev-issuer.json'), { agent: 'sales-bot', user: 'alice', scopes: ['crm.read'], ttlSeconds: 3600 });
 */
export async function signDevToken(file: DevIssuerFile, request: DevTokenRequest, now = Date.now()): Promise<string> {
  if (!file.audience) throw new Error('the development issuer file has no audience yet: start the gateway (toolgate demo) first');
  const key = await importJWK(file.privateJwk, 'EdDSA');
  const iat = Math.floor(now / 1000);
  return new SignJWT({
    client_id: request.agent,
    scope: request.scopes.join(' '),
    ...(request.tenant ? { tenant: request.tenant } : {}),
  })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: file.kid })
    .setIssuer(file.issuer)
    .setSubject(request.user ?? request.agent)
    .setAudience(file.audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + request.ttlSeconds)
    .setJti(randomUUID())
    .sign(key);
}
