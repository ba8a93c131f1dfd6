import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChainedAuditLog } from './audit/chained-log.js';
import { openGatewayAudit, recordSessionEnd, recordSessionStart } from './audit/gateway-audit.js';
import { RefusalLog } from './audit/refusal-log.js';
import { Closers } from './closers.js';
import { LIMIT_DEFAULTS } from './config/limits.js';
import { TRACE_DEFAULTS } from './config/trace.js';
import type { GatewayConfig, UpstreamConfig } from './config/types.js';
import { type CredentialsRuntime, startCredentials } from './credentials/runtime.js';
import { ToolgateError } from './errors.js';
import { assembleIdentity, type IdentityAssembly, unsafeWithoutAuth } from './identity/assembly.js';
import { AdminCredential } from './listener/admin-credential.js';
import { createListener, listen } from './listener/http-server.js';
import { OriginGuard } from './listener/origin-guard.js';
import { type TlsStats, tlsAuditHooks, tlsServerFactory } from './listener/tls.js';
import { type Logger, stderrLogger } from './log.js';
import { MODERN_CAPABILITIES } from './mcp/capabilities.js';
import { McpEndpoint } from './mcp/endpoint.js';
import { limitRefusalRecorder } from './mcp/limit-audit.js';
import { PrincipalLimits } from './mcp/principal-limits.js';
import { Router } from './mcp/router.js';
import { SessionStore } from './mcp/session-store.js';
import { StatelessEndpoint } from './mcp/stateless.js';
import { SubscriptionTable } from './mcp/subscriptions.js';
import { traceContextDropped } from './mcp/trace-context.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { MeteredAudit } from './metrics/metered-audit.js';
import { allowEverything, anonymousIdentity, MemoryAuditSink, noCredential } from './pipeline/pass-through.js';
import { Pipeline } from './pipeline/pipeline.js';
import type { AuditSink, CredentialStage, IdentityStage, PolicyStage } from './pipeline/stages.js';
import { type Clock, systemClock } from './policy/clock.js';
import { type PolicyRuntime, startPolicy } from './policy/runtime.js';
import type { CedarPolicyStage } from './policy/stage.js';
import { gatewayReadiness } from './readiness.js';
import { transportFor, UpstreamRegistry } from './upstream/registry.js';
import type { UpstreamTransport } from './upstream/transport/transport.js';

import { VERSION } from './version.js';

export { VERSION };

export interface GatewayOptions {
  identity?: IdentityStage;
  policy?: PolicyStage;
  credentials?: CredentialStage;
  audit?: AuditSink;
  logger?: Logger;
  /** Replaces how upstream connections are made (tests that need a fault the real ones can't produce). */
  makeTransport?: (config: UpstreamConfig) => UpstreamTransport;
  /** The one clock policy reads (time of day in the configured zone); tests set it instead of waiting. */
  clock?: Clock;
  /** State folder (audit database and keys by default); default TOOLGATE_HOME, else .toolgate next to the config. */
  home?: string;
}

export interface RunningGateway {
  /** The MCP endpoint, e.g. http://127.0.0.1:7420/mcp */
  url: string;
  port: number;
  registry: UpstreamRegistry;
  sessions: SessionStore;
  audit: AuditSink;
  /** TLS listener counters (accepted connections, failed handshakes), when `listener.tls` is set. */
  tls?: TlsStats;
  /** The Cedar policy stage, when the config has a `policy:` section (status, reload). */
  policy?: CedarPolicyStage;
  /** The tamper-evident audit log, unless the options injected another sink. */
  auditLog?: ChainedAuditLog;
  /** The Prometheus metrics (served at /metrics to the admin), unless `metrics: { enabled: false }`. */
  metrics?: GatewayMetrics;
  close(): Promise<void>;
}

export class StartupError extends ToolgateError {}

/**
 * Opens the audit log, starts the upstream connections, then the listener. Resolves once all
 * are up; when any step fails, whatever was opened is closed again before the error is thrown.
 */
export async function startGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<RunningGateway> {
  const logger = options.logger ?? stderrLogger();
  const opened = new Closers();
  try {
    return await assembleGateway(config, options, logger, opened);
  } catch (err) {
    await opened.closeAll().catch((e: Error) => logger.log('error', `start-up failed, and then ${e.message}`));
    throw err;
  }
}

/** Each resource is registered in `opened` as soon as it exists, so a later failure closes it. */
async function assembleGateway(config: GatewayConfig, options: GatewayOptions, logger: Logger, opened: Closers): Promise<RunningGateway> {
  // Every call is recorded: without an injected sink, the chained log (SQLite under home by default).
  let auditLog: ChainedAuditLog | undefined;
  try {
    auditLog = options.audit ? undefined : await openGatewayAudit(config, options.home, logger);
  } catch (err) {
    throw new StartupError((err as { code?: string }).code ?? 'ERR_AUDIT', `audit: ${(err as Error).message}`);
  }
  if (auditLog) opened.push('the audit log', () => auditLog.close());
  // Kept unless switched off; the gauges read the parts below when scraped.
  const metrics = config.metrics?.enabled === false ? undefined : new GatewayMetrics();
  if (metrics && auditLog) {
    const log = auditLog;
    log.onCommit = (seconds) => metrics.auditCommitted(seconds);
    metrics.observe({ auditQueueDepth: () => log.queueDepth, checkpointAgeSeconds: () => log.checkpointAgeSeconds() });
  }
  // Every refusal any stage records also gets one line in the gateway's log, with its reason.
  const refusals = new RefusalLog(options.audit ?? auditLog ?? new MemoryAuditSink(), logger);
  // Failed authentications and limit refusals are counted from the records the stages write.
  const audit = metrics ? new MeteredAudit(refusals, metrics) : refusals;
  const policy = options.policy ?? allowEverything;
  // Beyond loopback, no authentication must be a written decision (auth: { mode: none }).
  const unsafe = unsafeWithoutAuth(config, options.identity !== undefined);
  if (unsafe) throw new StartupError('ERR_AUTH_REQUIRED', unsafe);
  let identityLayer: IdentityAssembly;
  try {
    identityLayer = await assembleIdentity(config, audit);
  } catch (err) {
    throw new StartupError('ERR_AUTH_CONFIG', `auth: ${(err as Error).message}`);
  }
  const identity = timedIdentity(options.identity ?? identityLayer.identity ?? anonymousIdentity, metrics);
  // The operator's secret for the detailed status; a missing or weak token file stops start-up.
  let admin: AdminCredential | undefined;
  try {
    admin = config.admin ? AdminCredential.from(config.admin) : undefined;
  } catch (err) {
    throw new StartupError('ERR_ADMIN_TOKEN', `admin: ${(err as Error).message}`);
  }

  // Signing keys load (or are created) before any upstream starts: a bad key file stops start-up.
  // The runtime holds no timer or watcher (a key file is re-read lazily on use): nothing to close.
  let credentialsRuntime: CredentialsRuntime | undefined;
  try {
    credentialsRuntime = options.credentials ? undefined : startCredentials(config, audit, { log: (m) => logger.log('error', m) });
  } catch (err) {
    throw new StartupError((err as { code?: string }).code ?? 'ERR_CREDENTIALS', `credentials: ${(err as Error).message}`);
  }
  const subscriptions = new SubscriptionTable();
  const sessions = new SessionStore(config.listener.sessionIdleSeconds * 1000, (s) => recordSessionEnd(audit, s, 'idle', logger));
  // Idempotent: the listener's closer ends the sessions first; this one matters when start-up
  // fails before there is a listener (it stops the idle sweeper).
  opened.push('the sessions', () => sessions.closeAll());

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
  opened.push('the upstream connections', () => registry.close());
  await registry.start();
  // A prefix can separate tool and prompt names, so their clash stops start-up. Resource URIs
  // are not rewritten; a URI two upstreams both serve is routed to the first (logged).
  const collisions = registry.catalog.collisions.filter((c) => c.kind === 'tools' || c.kind === 'prompts');
  if (collisions.length > 0) {
    const c = collisions[0]!;
    throw new StartupError(
      'ERR_NAME_COLLISION',
      `${c.kind} name "${c.exposed}" is offered by both upstream ${c.upstreams[0]} and upstream ${c.upstreams[1]}; give one of them a different prefix in the config`,
    );
  }

  // The policy layer needs the first catalog (its Cedar schema is generated from it); a policy
  // file that does not validate stops start-up with file, line and reason.
  let policyRuntime: PolicyRuntime | undefined;
  if (config.policy && !options.policy) {
    try {
      policyRuntime = startPolicy(config.policy, { catalog: registry.catalog, clock: options.clock ?? systemClock, audit, logger, upstreams: config.upstreams.map((u) => u.id) });
    } catch (err) {
      throw new StartupError((err as { code?: string }).code ?? 'ERR_POLICY', `policy: ${(err as Error).message}`);
    }
    const running = policyRuntime;
    opened.push('the policy watchers', () => running.close());
    if (metrics) {
      const stage = running.stage;
      const reload = stage.reload.bind(stage);
      stage.reload = () => {
        const ok = reload();
        metrics.policyReloaded(ok);
        return ok;
      };
      metrics.observe({ shadowDisagreements: () => running.status().shadowDisagreements });
    }
  }

  const pipeline = new Pipeline(registry, {
    policy: policyRuntime?.stage ?? policy,
    credentials: options.credentials ?? credentialsRuntime?.stage ?? noCredential,
    audit,
    serverAccess: identityLayer.serverAccess,
    ...(policyRuntime ? { arguments: policyRuntime.arguments } : {}),
    ...(metrics ? { metrics } : {}),
  });
  const router = new Router(registry, pipeline, subscriptions, logger);
  const serverInfo = { name: 'toolgate', version: VERSION };
  const limits = new PrincipalLimits(config.limits ?? LIMIT_DEFAULTS, limitRefusalRecorder(audit, logger));
  metrics?.observe({
    sessionsOpen: () => sessions.size,
    streamsOpen: () => limits.openStreams(),
    upstreams: () => [...registry.clients.values()].map((c) => ({ id: c.id, up: c.state === 'ready' })),
    traceContextDropped: () => ({ ...traceContextDropped }),
  });
  const instructionKeys = (config.trace ?? TRACE_DEFAULTS).instructionKeys;
  const stateless = new StatelessEndpoint(router, { serverInfo, capabilities: MODERN_CAPABILITIES, limits, instructionKeys });
  const endpoint = new McpEndpoint(
    sessions,
    router,
    identity,
    {
      maxBodyBytes: config.listener.maxBodyBytes,
      unauthenticatedBodyBytes: config.listener.limits.unauthenticatedBodyBytes,
      serverInfo,
      limits,
      instructionKeys,
      onSessionOpened: (s) => recordSessionStart(audit, s, logger),
      onSessionClosed: (s) => {
        recordSessionEnd(audit, s, 'closed by the client', logger);
        for (const uri of s.subscriptions) subscriptions.remove(uri, s.id);
      },
      onForeignSession: (s, by) => {
        const reason = `session ${s.id} belongs to ${s.principal.bindingKey}; presented by ${by.bindingKey} (answered 404)`;
        void audit
          .record({ kind: 'auth', at: new Date(), sessionId: s.id, principal: by, detail: { outcome: 'foreign_session', reason } })
          // The refusal log (the sink) writes its one line, saying when the record failed.
          .catch(() => undefined);
      },
    },
    stateless,
  );

  const tlsStats: TlsStats = { failedHandshakes: 0, connections: 0 };
  const hosts = [...config.listener.allowedHosts];
  const origins = [...config.listener.allowedOrigins];
  let guard = new OriginGuard(hosts, origins);
  const server: Server = createListener(
    {
      path: config.listener.path,
      mcp: (req, res) => endpoint.handle(req, res),
      health: () => ({ status: 200, body: { status: 'ok', version: VERSION } }),
      readiness: () => gatewayReadiness(registry, auditLog, policyRuntime),
      ...(admin ? { admin } : {}),
      ...(metrics ? { metrics: () => metrics.scrape() } : {}),
      documents: (path) => identityLayer.document(path, config.listener.path) ?? credentialsRuntime?.document(path),
    },
    { check: (req) => guard.check(req) } as OriginGuard,
    logger,
    {
      limits: config.listener.limits,
      ...(config.listener.tls ? { makeServer: tlsServerFactory(config.listener.tls, tlsAuditHooks(audit, logger), tlsStats) } : {}),
    },
  );
  let address: AddressInfo;
  try {
    address = await listen(server, config.listener.port, config.listener.host);
  } catch (err) {
    throw new StartupError('ERR_LISTEN', `cannot listen on ${config.listener.host}:${config.listener.port}: ${(err as Error).message}`);
  }
  opened.push('the listener', async () => {
    // Sessions end first (in-flight calls aborted, streams ended cleanly), then the connections.
    sessions.closeAll();
    server.closeAllConnections?.();
    await new Promise<void>((r) => server.close(() => r()));
  });
  if (config.listener.port === 0) {
    // An ephemeral port is only known now: allow loopback under it.
    for (const name of ['127.0.0.1', 'localhost', '[::1]', config.listener.host]) {
      hosts.push(`${name}:${address.port}`);
      origins.push(`http://${name}:${address.port}`, `https://${name}:${address.port}`);
    }
    guard = new OriginGuard(hosts, origins);
  }
  const hostForUrl = config.listener.host.includes(':') ? `[${config.listener.host}]` : config.listener.host;
  const url = `${config.listener.tls ? 'https' : 'http'}://${hostForUrl}:${address.port}${config.listener.path}`;
  identityLayer.bind(config.listener.publicUrl ? `${config.listener.publicUrl}${config.listener.path}` : url);
  logger.log('info', `toolgate ${VERSION} listening on ${url} in front of ${config.upstreams.map((u) => u.id).join(', ')}`);

  return {
    url,
    port: address.port,
    registry,
    sessions,
    audit,
    ...(config.listener.tls ? { tls: tlsStats } : {}),
    ...(policyRuntime ? { policy: policyRuntime.stage } : {}),
    ...(auditLog ? { auditLog } : {}),
    ...(metrics ? { metrics } : {}),
    close: () => opened.closeAll(),
  };
}

/** Times each authentication (the `authenticate` stage) when metrics are kept. */
function timedIdentity(identity: IdentityStage, metrics: GatewayMetrics | undefined): IdentityStage {
  if (!metrics) return identity;
  return {
    authenticate: (req) => {
      const started = performance.now();
      const done = identity.authenticate(req);
      void done.then(
        () => metrics.stage('authenticate', (performance.now() - started) / 1000),
        () => undefined,
      );
      return done;
    },
  };
}
