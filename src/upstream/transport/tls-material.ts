import { readFileSync } from 'node:fs';
import type { UpstreamTlsConfig } from '../../config/types.js';
import { ToolgateError } from '../../errors.js';

/** An upstream's TLS files cannot be read or do not make a client certificate. */
export class UpstreamTlsError extends ToolgateError {
  constructor(
    readonly upstream: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('ERR_UPSTREAM_TLS', message, options);
  }
}

/** PEM contents for the HTTP upstream's TLS connector (client certificate, trusted CA). */
export interface UpstreamTlsMaterial {
  cert?: Buffer;
  key?: Buffer;
  ca?: Buffer;
}

/**
 * Reads an upstream's client certificate, key and CA once, when its transport is made. The
 * upstream's own certificate is always verified (against `ca` when given, else the system
 * roots); there is no switch to turn that off.
 */
export function readUpstreamTls(upstream: string, tls: UpstreamTlsConfig | undefined): UpstreamTlsMaterial | undefined {
  if (tls === undefined) return undefined;
  const read = (what: string, path: string | undefined): Buffer | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new UpstreamTlsError(upstream, `cannot read the ${what} ${path}: ${(err as Error).message}`, { cause: err });
    }
  };
  const cert = read('client certificate', tls.cert);
  const key = read('client key', tls.key);
  const ca = read('CA bundle', tls.ca);
  if ((cert === undefined) !== (key === undefined)) throw new UpstreamTlsError(upstream, 'tls needs both cert and key for a client certificate');
  return { ...(cert ? { cert } : {}), ...(key ? { key } : {}), ...(ca ? { ca } : {}) };
}
