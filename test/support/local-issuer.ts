/**
 * An issuer whose signing key lives in the test: its public key is a JWKS file the gateway
 * trusts (`auth.issuers[].jwks_file`), so a test can sign exactly the claims it wants to try.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CryptoKey, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';

export interface LocalIssuer {
  issuer: string;
  /** The `auth:` section trusting this issuer, for a gateway YAML. */
  authYaml: string;
  /** A signed at+jwt with sensible defaults (aud must be given: the gateway's URL), overridden by `claims`. */
  sign(claims: JWTPayload): Promise<string>;
  /** A valid access token for `audience` (the gateway's endpoint URL) with `scope`. */
  token(audience: string, scope?: string): Promise<string>;
}

export async function localIssuer(dir: string, issuer = 'https://issuer.test'): Promise<LocalIssuer> {
  const key: { privateKey: CryptoKey; publicKey: CryptoKey } = await generateKeyPair('ES256', { extractable: true });
  const jwks = join(dir, 'jwks.json');
  writeFileSync(jwks, JSON.stringify({ keys: [{ ...(await exportJWK(key.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] }));
  const now = (): number => Math.floor(Date.now() / 1000);
  const sign = (claims: JWTPayload): Promise<string> =>
    new SignJWT({ iss: issuer, sub: 'alice', client_id: 'sales-bot', jti: `j-${Math.random()}`, scope: 'crm.read', iat: now(), exp: now() + 300, ...claims })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })
      .sign(key.privateKey);
  return {
    issuer,
    authYaml: `auth:\n  issuers:\n    - issuer: ${issuer}\n      jwks_file: ${jwks}\n      algorithms: [ES256]\n`,
    sign,
    token: (audience, scope = 'crm.read') => sign({ aud: audience, scope, exp: now() + 600 }),
  };
}
