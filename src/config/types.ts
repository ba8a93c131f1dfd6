/**
 * The validated gateway configuration. Produced only by src/config/load.ts; every other module
 * receives this shape and never reads YAML or the environment itself.
 */
export interface GatewayConfig {
  /** Absolute path of the file this came from (for messages and relative paths). */
  source: string;
  listener: ListenerConfig;
  upstreams: UpstreamConfig[];
}

export interface ListenerConfig {
  host: string; // default 127.0.0.1
  port: number; // default 7420
  path: string; // default /mcp
  /** Public base URL used in metadata; default http://host:port */
  publicUrl?: string;
  /** Allowed Origin header values; default: the listener's own origins on loopback. */
  allowedOrigins: string[];
  /** Allowed Host header values (host[:port]); default: loopback names with the port. */
  allowedHosts: string[];
  /** Request body limit in bytes; default 4 MiB. */
  maxBodyBytes: number;
  /** Idle session expiry in seconds; default 3600. */
  sessionIdleSeconds: number;
}

export type UpstreamTransportConfig =
  | { type: 'http'; url: string; headers: Record<string, string> }
  | { type: 'stdio'; command: string; args: string[]; env: Record<string, string>; cwd?: string };

export interface UpstreamConfig {
  id: string; // [a-z0-9][a-z0-9_-]*
  transport: UpstreamTransportConfig;
  /** Prefix for tool and prompt names; default `${id}__`; '' for none. */
  prefix: string;
  /** Protocol era to speak with this upstream: auto (try 2026-07-28, fall back), or a fixed version. */
  protocol: 'auto' | '2025-06-18' | '2025-11-25' | '2026-07-28';
  timeouts: {
    connectMs: number; // default 10000
    requestMs: number; // default 60000
  };
}
