import { dirname, isAbsolute, resolve } from 'node:path';
import type { ConfigFile } from './schema.js';
import type { GatewayConfig, ListenerConfig, UpstreamConfig } from './types.js';

/**
 * Turns a validated file into the GatewayConfig the rest of the gateway reads: camelCase
 * names, defaults that depend on other keys, and paths made absolute against the config
 * file's folder (so the gateway behaves the same whatever directory it was started from).
 *
 * @param source absolute path of the config file
 */
export function resolveConfig(file: ConfigFile, source: string): GatewayConfig {
  const folder = dirname(source);
  return {
    source,
    listener: resolveListener(file.listener),
    upstreams: file.upstreams.map((upstream) => resolveUpstream(upstream, folder)),
  };
}

function resolveListener(listener: ConfigFile['listener']): ListenerConfig {
  const { host, port } = listener;
  const publicUrl = listener.public_url === undefined ? undefined : new URL(listener.public_url);

  // DNS-rebinding protection: by default only loopback names, the configured host and the
  // public URL's host may appear in Host; only the matching origins in Origin.
  const defaultHosts = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${bracketed(host)}:${port}`];
  if (publicUrl !== undefined) defaultHosts.push(publicUrl.host);
  const defaultOrigins = [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`];
  if (publicUrl !== undefined) defaultOrigins.push(publicUrl.origin);

  return {
    host,
    port,
    path: listener.path,
    ...(listener.public_url === undefined ? {} : { publicUrl: listener.public_url }),
    allowedOrigins: unique(listener.allowed_origins ?? defaultOrigins),
    allowedHosts: unique((listener.allowed_hosts ?? defaultHosts).map((entry) => entry.toLowerCase())),
    maxBodyBytes: listener.max_body_bytes,
    sessionIdleSeconds: listener.session_idle_seconds,
  };
}

function resolveUpstream(upstream: ConfigFile['upstreams'][number], folder: string): UpstreamConfig {
  return {
    id: upstream.id,
    transport: upstream.url !== undefined
      ? { type: 'http', url: upstream.url, headers: upstream.headers }
      : {
          type: 'stdio',
          // checks.ts guarantees command is set when url is not.
          command: resolveCommand(upstream.command!, folder),
          args: upstream.args,
          env: upstream.env,
          ...(upstream.cwd === undefined ? {} : { cwd: isAbsolute(upstream.cwd) ? upstream.cwd : resolve(folder, upstream.cwd) }),
        },
    prefix: upstream.prefix ?? `${upstream.id}__`,
    protocol: upstream.protocol,
    timeouts: { connectMs: upstream.timeouts.connect_ms, requestMs: upstream.timeouts.request_ms },
  };
}

/** `./server` and `../bin/server` are files next to the config; a bare name is looked up on PATH. */
function resolveCommand(command: string, folder: string): string {
  return command.startsWith('./') || command.startsWith('../') ? resolve(folder, command) : command;
}

/** An IPv6 address in a Host header is written in brackets. */
function bracketed(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
