import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { TlsConfig } from '../config/types.js';
import { certificateIdentity } from '../identity/certificate.js';
import type { Logger } from '../log.js';
import type { AuditSink } from '../pipeline/stages.js';

/** One accepted TLS connection, for the audit stage: who connected, to which server certificate. */
export interface ConnectionRecord {
  remote: string | undefined;
  protocol: string | null;
  cipher: string;
  server: { subject: string };
  /** Absent when the client presented no certificate. */
  client?: { subject: string; sanUris: string[]; sanDns: string[]; thumbprint: string; verified: boolean; error?: string };
}

export interface TlsHooks {
  connection(record: ConnectionRecord): void;
  /** A handshake that failed (bad or missing client certificate in `required` mode, wrong protocol…). */
  handshakeFailed(reason: string, remote: string | undefined): void;
}

/** Counters the listener keeps (exported in readiness/metrics). */
export interface TlsStats {
  failedHandshakes: number;
  connections: number;
}

/**
 * The HTTPS listener. Client certificates: `off` (none asked for), `optional` (asked for;
 * the handshake finishes either way and the identity stage refuses a certificate that did not
 * verify, with an answer and an audit record), `required` (a missing or unverifiable
 * certificate fails the handshake; counted and reported). Certificates are read once, at start.
 */
export function tlsServerFactory(config: TlsConfig, hooks: TlsHooks, stats: TlsStats): (handler: RequestListener<typeof IncomingMessage, typeof ServerResponse>) => Server {
  const cert = readFileSync(config.cert);
  const key = readFileSync(config.key);
  const ca = config.clientCa ? readFileSync(config.clientCa) : undefined;
  const serverSubject = new X509Certificate(cert).subject.split('\n').join(',');
  const asking = config.clientCertificates !== 'off';
  return (handler) => {
    const server = createServer(
      { cert, key, ...(ca ? { ca } : {}), requestCert: asking, rejectUnauthorized: config.clientCertificates === 'required', minVersion: 'TLSv1.2' },
      handler,
    );
    server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
      stats.failedHandshakes++;
      hooks.handshakeFailed(err.message, socket.remoteAddress);
    });
    server.on('secureConnection', (socket: TLSSocket) => {
      stats.connections++;
      const peer = asking ? socket.getPeerX509Certificate() : undefined;
      const client = peer ? certificateIdentity(peer) : undefined;
      hooks.connection({
        remote: socket.remoteAddress,
        protocol: socket.getProtocol(),
        cipher: socket.getCipher().name,
        server: { subject: serverSubject },
        ...(client ? { client: { ...client, verified: socket.authorized, ...(socket.authorized ? {} : { error: String(socket.authorizationError) }) } } : {}),
      });
    });
    return server as unknown as Server;
  };
}

/**
 * The TLS events as the gateway reports them: each accepted connection is a `connection`
 * record for the audit stage; each failed handshake is logged and recorded as an `auth`
 * failure with its reason.
 */
export function tlsAuditHooks(audit: AuditSink, logger: Logger): TlsHooks {
  const failed = (err: Error): void => logger.log('error', `audit: ${err.message}`);
  return {
    connection(record) {
      audit.record({ kind: 'connection', at: new Date(), detail: { ...record } }).catch(failed);
    },
    handshakeFailed(reason, remote) {
      logger.log('warn', `TLS handshake from ${remote ?? 'unknown'} failed: ${reason}`);
      audit.record({ kind: 'auth', at: new Date(), detail: { outcome: 'tls_handshake_failed', code: 'ERR_TLS_HANDSHAKE', reason, remote } }).catch(failed);
    },
  };
}
