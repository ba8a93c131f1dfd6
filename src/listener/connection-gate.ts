import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { Logger } from '../log.js';

export interface ConnectionCaps {
  /** Open connections in total. */
  maxConnections: number;
  /** Open connections from one remote address. */
  maxConnectionsPerAddress: number;
}

/**
 * Counts open connections, in total and per remote address, and turns away a connection past
 * either cap as it arrives: on plain HTTP with a one-shot answer (503 over the total, 429 over
 * the per-address cap) written before anything is read, on TLS (no HTTP before the handshake)
 * by closing it. Each refusal is one log line.
 *
 * Node's own `maxConnections` only closes the socket, with no answer, so it is set as a
 * backstop above the cap (refused sockets still count while their answer is flushed).
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
    const speaksHttp = !(server instanceof TlsServer);
    server.maxConnections = this.caps.maxConnections * 2;
    server.on('drop', (data?: { remoteAddress?: string }) => {
      this.logger.log('warn', `refused connection from ${data?.remoteAddress ?? 'unknown'}: over twice listener.limits.max_connections (${this.caps.maxConnections}), closed`);
    });
    // Before the HTTP layer's own listener, so a refused socket is marked before it is parsed.
    server.prependListener('connection', (socket: Socket) => this.admit(socket, speaksHttp));
  }

  private admit(socket: Socket, speaksHttp: boolean): void {
    const address = socket.remoteAddress;
    if (address === undefined) {
      // Already gone (reset before it was handed over): nothing to count.
      this.refused.add(socket);
      socket.destroy();
      return;
    }
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (this.open >= this.caps.maxConnections) {
      this.refuse(socket, speaksHttp, address, 503, 'Service Unavailable', `over listener.limits.max_connections (${this.caps.maxConnections})`);
      return;
    }
    if (fromAddress >= this.caps.maxConnectionsPerAddress) {
      this.refuse(socket, speaksHttp, address, 429, 'Too Many Requests', `over listener.limits.max_connections_per_address (${this.caps.maxConnectionsPerAddress})`);
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

  private refuse(socket: Socket, speaksHttp: boolean, address: string, status: number, text: string, why: string): void {
    this.refused.add(socket);
    this.logger.log('warn', `refused connection from ${address}: ${status} ${why}`);
    // A client that has already gone makes the answer fail; that is no news.
    socket.on('error', () => {});
    if (!speaksHttp) {
      socket.destroy();
      return;
    }
    const body = JSON.stringify({ error: status === 503 ? 'over_capacity' : 'too_many_connections', message: `connection refused: ${why}` });
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nRetry-After: 1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    // Whatever the client sent is not read: once the answer is out, the socket goes.
    socket.once('finish', () => socket.destroy());
  }
}
