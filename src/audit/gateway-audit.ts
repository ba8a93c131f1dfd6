import type { GatewayConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { AuditSink, Principal } from '../pipeline/stages.js';
import type { ChainedAuditLog } from './chained-log.js';
import { resolveAudit, stateHome } from './config.js';
import { openAuditLog } from './open.js';

/**
 * The gateway's audit log. Every call is recorded, so a config without an `audit:` section gets
 * the defaults: SQLite at `<home>/audit.db`, keys in `<home>/keys`, where home is the `home`
 * option, else `TOOLGATE_HOME`, else `.toolgate` next to the config file.
 */
export function openGatewayAudit(config: GatewayConfig, home: string | undefined, logger: Logger): Promise<ChainedAuditLog> {
  const settings = config.audit ?? resolveAudit(undefined, '.');
  return openAuditLog(settings, home ?? stateHome(config.source), (level, message) => logger.log(level, message));
}

/** /readyz with the audit store's state: not ready while records cannot be written (unless fail_open). */
export function withAuditReadiness(probe: { status: number; body: unknown }, log: ChainedAuditLog | undefined): { status: number; body: unknown } {
  if (!log) return probe;
  const audit = log.readiness();
  const ready = audit.ready || audit.body.failOpen === true;
  const body = { ...(probe.body as object), audit: audit.body } as Record<string, unknown>;
  if (!ready) body.status = 'degraded';
  return { status: ready ? probe.status : 503, body };
}

interface SessionLike {
  id: string;
  principal: Principal;
  protocolVersion: string;
  clientInfo?: Record<string, unknown>;
}

/** Session records do not hold up the protocol; a failure to write one is logged by the sink and here. */
export function recordSessionStart(audit: AuditSink, session: SessionLike, logger: Logger): void {
  const client = session.clientInfo ? { name: session.clientInfo.name, version: session.clientInfo.version } : undefined;
  void audit
    .record({
      kind: 'session.start',
      at: new Date(),
      sessionId: session.id,
      principal: session.principal,
      detail: { protocolVersion: session.protocolVersion, ...(client ? { client } : {}) },
    })
    .catch((err: Error) => logger.log('error', `audit: session start of ${session.id} not recorded: ${err.message}`));
}

export function recordSessionEnd(audit: AuditSink, session: SessionLike, reason: string, logger: Logger): void {
  void audit
    .record({ kind: 'session.end', at: new Date(), sessionId: session.id, principal: session.principal, detail: { reason } })
    .catch((err: Error) => logger.log('error', `audit: session end of ${session.id} not recorded: ${err.message}`));
}
