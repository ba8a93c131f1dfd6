import { createHash, type X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { CertificateAgentRule } from '../config/types.js';

/** The transport identity of a client: what its verified certificate says. */
export interface CertificateIdentity {
  /** Subject DN, RDNs joined with `,` as in `C=DE,O=Acme,CN=sales-bot`. */
  subject: string;
  sanUris: string[];
  sanDns: string[];
  /** base64url SHA-256 of the DER certificate: RFC 8705 `x5t#S256`. */
  thumbprint: string;
}

/**
 * What the connection presented: nothing (plain HTTP or no certificate), a certificate the
 * TLS layer verified against the client CA, or one it could not verify (optional mode lets
 * the handshake finish so the gateway can refuse with an answer and a record).
 */
export type PresentedCertificate = { kind: 'none' } | { kind: 'verified'; identity: CertificateIdentity } | { kind: 'unverified'; identity: CertificateIdentity; error: string };

export function presentedCertificate(socket: unknown): PresentedCertificate {
  const tls = socket as Partial<TLSSocket>;
  if (typeof tls.getPeerX509Certificate !== 'function') return { kind: 'none' };
  const cert = tls.getPeerX509Certificate();
  if (!cert) return { kind: 'none' };
  const identity = certificateIdentity(cert);
  if (tls.authorized) return { kind: 'verified', identity };
  return { kind: 'unverified', identity, error: String(tls.authorizationError ?? 'not verified') };
}

export function certificateIdentity(cert: X509Certificate): CertificateIdentity {
  const sans = (cert.subjectAltName ?? '').split(/,\s*/).filter(Boolean);
  return {
    subject: normalizeDn(cert.subject.split('\n').join(',')),
    sanUris: sans.filter((s) => s.startsWith('URI:')).map((s) => unquote(s.slice(4))),
    sanDns: sans.filter((s) => s.startsWith('DNS:')).map((s) => unquote(s.slice(4))),
    thumbprint: createHash('sha256').update(cert.raw).digest('base64url'),
  };
}

/**
 * The agent a certificate stands for: the first rule that matches; without a matching rule,
 * the SPIFFE ID (first SAN URI), else the subject's CN, else the thumbprint.
 */
export function agentForCertificate(identity: CertificateIdentity, rules: CertificateAgentRule[]): string {
  for (const r of rules) {
    if (r.sanUri !== undefined && !identity.sanUris.includes(r.sanUri)) continue;
    if (r.sanDns !== undefined && !identity.sanDns.includes(r.sanDns)) continue;
    if (r.subject !== undefined && normalizeDn(r.subject) !== identity.subject) continue;
    if (r.thumbprint !== undefined && r.thumbprint !== identity.thumbprint) continue;
    return r.agent;
  }
  const cn = /(?:^|,)CN=([^,]+)/.exec(identity.subject)?.[1];
  return identity.sanUris[0] ?? cn ?? `x5t#S256:${identity.thumbprint}`;
}

function normalizeDn(dn: string): string {
  return dn.split(/\s*,\s*/).join(',');
}

function unquote(s: string): string {
  return s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}
