import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditError } from '../pipeline/rejections.js';
import { sha256Hex } from './hashing.js';

/**
 * The audit log's own keys, in their own folder and files, apart from the key that signs
 * per-call tokens: a leaked token key must not let anyone re-sign the log's checkpoints.
 *   audit-checkpoint.pem  Ed25519 private key (PKCS#8) that signs checkpoints
 *   audit-hmac.key        32 random bytes (hex), the master key for `hmac` redaction
 * Both are created on first use with mode 0600.
 */
export interface AuditKeys {
  signing: KeyObject;
  publicKeyPem: string;
  /** SHA-256 of the public key's SPKI DER, hex: names the key in checkpoints and bundles. */
  keyId: string;
  hmacMaster: Buffer;
}

export function loadAuditKeys(dir: string): AuditKeys {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pemPath = join(dir, 'audit-checkpoint.pem');
    if (!existsSync(pemPath)) {
      const { privateKey } = generateKeyPairSync('ed25519');
      writeFileSync(pemPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    }
    const signing = createPrivateKey(readFileSync(pemPath));
    if (signing.asymmetricKeyType !== 'ed25519') throw new Error(`${pemPath} is a ${signing.asymmetricKeyType} key, expected Ed25519`);
    const hmacPath = join(dir, 'audit-hmac.key');
    if (!existsSync(hmacPath)) writeFileSync(hmacPath, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    const hmacMaster = Buffer.from(readFileSync(hmacPath, 'utf8').trim(), 'hex');
    if (hmacMaster.length < 32) throw new Error(`${hmacPath} must hold at least 32 bytes as hex`);
    const pub = createPublicKey(signing);
    return { signing, publicKeyPem: pub.export({ type: 'spki', format: 'pem' }) as string, keyId: keyIdOf(pub), hmacMaster };
  } catch (err) {
    throw new AuditError('ERR_AUDIT_KEY', `audit keys in ${dir}: ${(err as Error).message}`, { cause: err });
  }
}

export function keyIdOf(publicKey: KeyObject): string {
  return sha256Hex(publicKey.export({ type: 'spki', format: 'der' }));
}
