import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ADMIN_TOKEN_MIN_LENGTH, type AdminSettings } from '../config/admin.js';
import { ToolgateError } from '../errors.js';

export class AdminTokenError extends ToolgateError {}

/** What a request's `Authorization` header says about the admin secret. */
export type AdminPresented = 'none' | 'valid' | 'invalid';

/**
 * The operator's bearer secret for the detailed status. Compared in constant time (both sides
 * hashed first, so neither the content nor the length leaks through timing).
 */
export class AdminCredential {
  private readonly digest: Buffer;

  constructor(secret: string) {
    if (secret.length < ADMIN_TOKEN_MIN_LENGTH || /\s/.test(secret)) {
      throw new AdminTokenError('ERR_ADMIN_TOKEN', `the admin token must be at least ${ADMIN_TOKEN_MIN_LENGTH} characters without spaces`);
    }
    this.digest = sha256(secret);
  }

  /** Read once at start-up: a missing or short token file stops the gateway rather than leaving the endpoint open or dead. */
  static from(settings: AdminSettings): AdminCredential {
    if (settings.tokenFile === undefined) return new AdminCredential(settings.token ?? '');
    let text: string;
    try {
      text = readFileSync(settings.tokenFile, 'utf8');
    } catch (err) {
      throw new AdminTokenError('ERR_ADMIN_TOKEN', `cannot read the admin token file ${settings.tokenFile}: ${(err as Error).message}`);
    }
    try {
      return new AdminCredential(text.trim());
    } catch (err) {
      throw new AdminTokenError('ERR_ADMIN_TOKEN', `${settings.tokenFile}: ${(err as Error).message}`);
    }
  }

  /** `Authorization: Bearer <secret>`; any other header, or several, counts as invalid. */
  check(authorization: string | string[] | undefined): AdminPresented {
    if (authorization === undefined) return 'none';
    if (typeof authorization !== 'string') return 'invalid';
    const match = /^Bearer +(\S+) *$/i.exec(authorization);
    if (!match) return 'invalid';
    return timingSafeEqual(sha256(match[1]!), this.digest) ? 'valid' : 'invalid';
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
