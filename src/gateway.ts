import type { Server } from 'node:http';
import type { GatewayConfig, UpstreamConfig } from './config/types.js';
import { UpstreamRegistry, transportFor } from './catalog/registry.js';
import { createListener, listen } from './listener/http-server.js';
import { OriginGuard } from './listener/origin-guard.js';
import { Dispatcher } from './mcp/dispatch.js';
import { McpEndpoint } from './mcp/endpoint.js';
import { MODERN_CAPABILITIES } from './mcp/capabilities.js';
import { StatelessEndpoint } from './mcp/stateless.js';
import { SessionStore } from './mcp/session-store.js';
import { SubscriptionTable } from './mcp/subscriptions.js';
import { stderrLogger, type Logger } from './log.js';
import { allowEverything, anonymousIdentity, MemoryAuditSink, noCredential } from './pipeline/pass-through.js';
import type { AuditSink, CredentialStage, IdentityStage, PolicyStage } from './pipeline/stages.js';
import type { UpstreamTransport } from './upstream/transport.js';

export const VERSION = '0.1.0';

export interface GatewayOptions {
  identity?: IdentityStage;
  policy?: PolicyStage;
  credentials?: CredentialStage;
  audit?: AuditSink;
  logger?: Logger;
  /** Replaces how upstream connections are made (tests that need a fault the real ones can't produce). */
  makeTransport?: (config: UpstreamConfig) => UpstreamTransport;
}

export interface RunningGateway {
  /** The MCP endpoint, e.g. http://127.0.0.1:7420/mcp */
  url: string;
  port: number;
  registry: UpstreamRegistry;
  sessions: SessionStore;
  audit: AuditSink;
  close(): Promise<void>;
}

export class StartupError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

/** Starts the upstream connections, then the listener. Resolves once both are up. */
export async function startGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<RunningGateway> {
  const logger = options.logger ?? stderrLogger();
  const audit = options.audit ?? new MemoryAuditSink();
  const policy = options.policy ?? allowEverything;
  const identity = options.identity ?? anonymousIdentity;
  const subscriptions = new SubscriptionTable();
  const sessions = new SessionStore(config.listener.sessionIdleSeconds * 1000);

  const registry = new UpstreamRegistry(
    config.upstreams,
    {
      catalogChanged: (kind) => {
        for (const s of sessions.all()) s.standalone?.send({ jsonrpc: '2.0', method: `notifications/${kind}/list_changed` });
      },
      resourceUpdated: (_upstream, n) => {
        const uri = String(n.params?.uri ?? '');
        for (const id of subscriptions.subscribers(uri)) sessions.get(id)?.standalone?.send(n);
      },
      log: (level, message) => logger.log(level, message),
    },
    options.makeTransport ?? transportFor,
  );
  await registry.start();
  // A prefix can separate tool and prompt names, so their clash stops start-up. Resource URIs
  // are not rewritten; a URI two upstreams both serve is routed to the first (logged).
  const collisions = registry.catalog.collisions.filter((c) => c.kind === 'tools' || c.kind === 'prompts');
  if (collisions.length > 0) {
    await registry.close();
    const c = collisions[0]!;
    throw new StartupError(
      'ERR_NAME_COLLISION',
      `${c.kind} name "${c.exposed}" is offered by both upstream ${c.upstreams[0]} and upstream ${c.upstreams[1]}; give one of them a different prefix in the config`,
    );
  }

  const dispatcher = new Dispatcher(registry, { policy, credentials: options.credentials ?? noCredential, audit }, subscriptions);
  const serverInfo = { name: 'toolgate', version: VERSION };
  const stateless = new StatelessEndpoint(dispatcher, { serverInfo, capabilities: MODERN_CAPABILITIES });
  const endpoint = new McpEndpoint(
    sessions,
    dispatcher,
    identity,
    {
      maxBodyBytes: config.listener.maxBodyBytes,
      serverInfo,
      onSessionClosed: (s) => {
        for (const uri of s.subscriptions) subscriptions.remove(uri, s.id);
      },
    },
    stateless,
  );

  const hosts = [...config.listener.allowedHosts];
  const origins = [...config.listener.allowedOrigins];
  let guard = new OriginGuard(hosts, origins);
  const server: Server = createListener(
    {
      path: config.listener.path,
      mcp: (req, res) => endpoint.handle(req, res),
      health: () => ({ status: 200, body: { status: 'ok', version: VERSION } }),
      readiness: () => readiness(registry),
    },
    { check: (req) => guard.check(req) } as OriginGuard,
    (m) => logger.log('error', m),
  );
  let address;
  try {
    address = await listen(server, config.listener.port, config.listener.host);
  } catch (err) {
    await registry.close();
    throw new StartupError('ERR_LISTEN', `cannot listen on ${config.listener.host}:${config.listener.port}: ${(err as Error).message}`);
  }
  if (config.listener.port === 0) {
    // An ephemeral port is only known now: allow loopback under it.
    for (const name of ['127.0.0.1', 'localhost', '[::1]', config.listener.host]) {
      hosts.push(`${name}:${address.port}`);
      origins.push(`http://${name}:${address.port}`);
    }
    guard = new OriginGuard(hosts, origins);
  }
  const hostForUrl = config.listener.host.includes(':') ? `[${config.listener.host}]` : config.listener.host;
  const url = `http://${hostForUrl}:${address.port}${config.listener.path}`;
  logger.log('info', `toolgate ${VERSION} listening on ${url} in front of ${config.upstreams.map((u) => u.id).join(', ')}`);

  return {
    url,
    port: address.port,
    registry,
    sessions,
    audit,
    async close() {
      sessions.closeAll();
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
      await registry.close();
    },
  };
}

function readiness(registry: UpstreamRegistry): { status: number; body: unknown } {
  const upstreams: Record<string, unknown> = {};
  let ready = true;
  for (const c of registry.clients.values()) {
    if (c.state !== 'ready') ready = false;
    upstreams[c.id] = {
      state: c.state,
      protocolVersion: c.state === 'ready' ? c.protocolVersion : undefined,
      era: c.state === 'ready' ? c.era : undefined,
      restarts: c.restarts,
      ...(c.lastError ? { lastError: c.lastError } : {}),
    };
  }
  return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : 'degraded', upstreams } };
}
