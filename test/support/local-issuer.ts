import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CryptoKey, exportJWK, generateKeyPair, SignJWT } from 'jose';

export interface LocalIssuer {
  issuer: string;
  /** The `auth:` section of a gateway config that trusts this issuer. */
  authYaml: string;
  /** A valid access token for `audience` (the gateway's endpoint URL). */
  token(audience: string, scope?: string): Promise<string>;
}

/**
 * An issuer whose public keys are a JWKS file in `dir`: enough for a gateway in another process
 * to verify real signed tokens without an authorization server on the network.
 */
export async function localIssuer(dir: string, issuer = 'https://issuer.test'): Promise<LocalIssuer> {
  const key: { privateKey: CryptoKey; publicKey: CryptoKey } = await generateKeyPair('ES256', { extractable: true });
  const jwks = join(dir, 'issuer-jwks.json');
  writeFileSync(jwks, JSON.stringify({ keys: [{ ...(await exportJWK(key.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] }));
  return {
    issuer,
    authYaml: `auth:\n  issuers:\n    - issuer: ${issuer}\n      jwks_file: ${jwks}\n      algorithms: [ES256]\n`,
    token: (audience, scope = 'crm.read') => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ sub: 'alice', client_id: 'sales-bot', scope, jti: `j-${Math.random()}` })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(key.privateKey);
    },
  };
}
