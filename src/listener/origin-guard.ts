import type { IncomingMessage } from 'node:http';

/**
 * DNS-rebinding protection: a browser page on another origin must not reach a gateway on
 * loopback. Host must be one we serve under; Origin, when a browser sends one, must be allowed.
 */
export class OriginGuard {
  private readonly hosts: Set<string>;
  private readonly origins: Set<string>;

  constructor(allowedHosts: string[], allowedOrigins: string[]) {
    this.hosts = new Set(allowedHosts.map((h) => h.toLowerCase()));
    this.origins = new Set(allowedOrigins.map((o) => o.toLowerCase().replace(/\/$/, '')));
  }

  /** Returns the reason the request is refused, or undefined when it may pass. */
  check(req: IncomingMessage): string | undefined {
    const host = req.headers.host?.toLowerCase();
    if (!host) return 'missing Host header';
    if (!this.hosts.has(host)) return `Host ${host} is not allowed`;
    const origin = req.headers.origin;
    if (origin !== undefined && !this.origins.has(origin.toLowerCase())) return `Origin ${origin} is not allowed`;
    return undefined;
  }
}
