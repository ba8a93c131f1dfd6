import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { Logger } from '../log.js';

/** How long a refused connection may stay open for its answer to reach the client. */
const REFUSAL_LINGER_MS = 1000;

export interface ConnectionCaps {
  /** Open connections in total. */
  maxConnections: number;
  /** Open connections from one remote address. */
  maxConnectionsPerAddress: number;
}

/**
 * Counts open connections, in total and per remote address, and turns away a connection past
 * either cap as it arrives, with a one-shot answer written before anything it sent is read: 503
 * over the total, 429 over the per-address cap. Each refusal is one log line. On HTTPS the
 * count starts once the handshake is done (there is no HTTP to answer with before it), so the
 * refusal is an answer there too rather than a failed handshake.
 *
 * Node's own `maxConnections` only closes the socket, with no answer, so it is set as a
 * backstop above the cap (refused sockets, and handshakes not finished, still count there).
 */
export class ConnectionGate {
  private open = 0;
  private readonly perAddress = new Map<string, number>();
  /** Sockets turned away: the HTTP layer still parses what they send, and must serve none of it. */
  readonly refused = new WeakSet<Socket>();

  constructor(
    private readonly caps: ConnectionCaps,
    private readonly logger: Logger,
  ) {}

  attach(server: Server): void {
    server.maxConnections = this.caps.maxConnections * 2;
    server.on('drop', (data?: { remoteAddress?: string }) => {
      this.logger.log('warn', `refused connection from ${data?.remoteAddress ?? 'unknown'}: over twice listener.limits.max_connections (${this.caps.maxConnections}), closed`);
    });
    // Before the HTTP layer's own listener, so a refused socket is marked before it is parsed.
    server.prependListener(server instanceof TlsServer ? 'secureConnection' : 'connection', (socket: Socket) => this.admit(socket));
  }

  private admit(socket: Socket): void {
    const address = socket.remoteAddress;
    if (address === undefined) {
      // Already gone (reset before it was handed over): nothing to count.
      this.refused.add(socket);
      socket.destroy();
      return;
    }
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (this.open >= this.caps.maxConnections) {
      this.refuse(socket, address, 503, 'Service Unavailable', `over listener.limits.max_connections (${this.caps.maxConnections})`);
      return;
    }
    if (fromAddress >= this.caps.maxConnectionsPerAddress) {
      this.refuse(socket, address, 429, 'Too Many Requests', `over listener.limits.max_connections_per_address (${this.caps.maxConnectionsPerAddress})`);
      return;
    }
    this.open++;
    this.perAddress.set(address, fromAddress + 1);
    socket.once('close', () => {
      this.open--;
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left <= 0) this.perAddress.delete(address);
      else this.perAddress.set(address, left);
    });
  }

  private refuse(socket: Socket, address: string, status: number, text: string, why: string): void {
    this.refused.add(socket);
    this.logger.log('warn', `refused connection from ${address}: ${status} ${why}`);
    // A client that has already gone makes the answer fail; that is no news.
    socket.on('error', () => {});
    const body = JSON.stringify({ error: status === 503 ? 'over_capacity' : 'too_many_connections', message: `connection refused: ${why}` });
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nRetry-After: 1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    // The answer must be flushed (on TLS through the encrypting layer) before the socket goes:
    // it goes when the client closes its side, or after a short linger. Whatever the client
    // sends meanwhile is not served (see `refused`).
    const linger = setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS);
    linger.unref();
    socket.once('end', () => socket.destroy());
    socket.once('close', () => clearTimeout(linger));
  }
}
