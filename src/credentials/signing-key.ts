import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { SigningKeyError } from './errors.js';

export type SigningAlgorithm = 'Ed25519' | 'ES256';

/** One key of the ring: the private half signs, the public half is published in the JWKS. */
export interface SigningKey {
  kid: string;
  algorithm: SigningAlgorithm;
  /** JWS `alg` header value. */
  alg: 'EdDSA' | 'ES256';
  privateKey: KeyObject;
  publicJwk: JsonWebKey;
  /** Unix seconds. */
  createdAt: number;
  /** Unix seconds after which the key leaves the JWKS; absent on the key in use. */
  retireAt?: number;
}

/** A key as stored (file or env): a private JWK plus bookkeeping. */
export interface StoredKey {
  kid: string;
  algorithm: SigningAlgorithm;
  created_at: number;
  retire_at?: number;
  private_jwk: JsonWebKey;
}

export function generateSigningKey(algorithm: SigningAlgorithm, now: number): SigningKey {
  const { privateKey } = algorithm === 'Ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return fromPrivateKey(privateKey, algorithm, now);
}

export function fromStored(stored: StoredKey, where: string): SigningKey {
  if (stored.algorithm !== 'Ed25519' && stored.algorithm !== 'ES256') {
    throw new SigningKeyError('ERR_SIGNING_KEY_INVALID', `${where}: key ${stored.kid} has algorithm ${String(stored.algorithm)}; expected Ed25519 or ES256`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: stored.private_jwk, format: 'jwk' });
  } catch (err) {
    throw new SigningKeyError('ERR_SIGNING_KEY_INVALID', `${where}: key ${stored.kid} is not a usable private JWK: ${(err as Error).message}`, { cause: err });
  }
  const key = fromPrivateKey(privateKey, stored.algorithm, stored.created_at);
  if (key.kid !== stored.kid) throw new SigningKeyError('ERR_SIGNING_KEY_INVALID', `${where}: key ${stored.kid} does not match its kid (thumbprint ${key.kid})`);
  return stored.retire_at === undefined ? key : { ...key, retireAt: stored.retire_at };
}

export function toStored(key: SigningKey): StoredKey {
  return {
    kid: key.kid,
    algorithm: key.algorithm,
    created_at: key.createdAt,
    ...(key.retireAt !== undefined ? { retire_at: key.retireAt } : {}),
    private_jwk: key.privateKey.export({ format: 'jwk' }),
  };
}

function fromPrivateKey(privateKey: KeyObject, algorithm: SigningAlgorithm, createdAt: number): SigningKey {
  const expectedType = algorithm === 'Ed25519' ? 'ed25519' : 'ec';
  if (privateKey.asymmetricKeyType !== expectedType) {
    throw new SigningKeyError('ERR_SIGNING_KEY_INVALID', `a ${privateKey.asymmetricKeyType} key cannot sign ${algorithm}`);
  }
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  const kid = thumbprint(jwk);
  const alg = algorithm === 'Ed25519' ? 'EdDSA' : 'ES256';
  return { kid, algorithm, alg, privateKey, publicJwk: { ...jwk, kid, alg, use: 'sig' }, createdAt };
}

/** RFC 7638 JWK thumbprint: a kid that names the key itself. */
function thumbprint(jwk: JsonWebKey): string {
  const members = jwk.kty === 'OKP' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}
