import { join } from 'node:path';
import { ChainedAuditLog } from './chained-log.js';
import type { AuditSettings } from './config.js';
import { loadAuditKeys } from './keys.js';
import { PostgresAuditStore } from './postgres-store.js';
import { Redactor } from './redaction.js';
import { SqliteAuditStore } from './sqlite-store.js';
import type { AuditStore } from './store.js';

/** The store the settings name. `home` anchors the defaults (`<home>/audit.db`). */
export function auditStoreFor(settings: AuditSettings, home: string, options: { readonly?: boolean } = {}): AuditStore {
  if (settings.store === 'postgres') return new PostgresAuditStore(settings.url!, settings.schema, options);
  return new SqliteAuditStore(settings.path ?? join(home, 'audit.db'), options);
}

export function auditKeysDir(settings: AuditSettings, home: string): string {
  return settings.keys ?? join(home, 'keys');
}

/**
 * Opens the gateway's audit log: keys (created on first run), store, recovery of chains a
 * crash left open, and this run's chain.
 */
export async function openAuditLog(settings: AuditSettings, home: string, log?: (level: 'info' | 'warn' | 'error', message: string) => void): Promise<ChainedAuditLog> {
  const keys = loadAuditKeys(auditKeysDir(settings, home));
  return ChainedAuditLog.open(auditStoreFor(settings, home), keys, new Redactor(settings.redaction, keys.hmacMaster), {
    instance: settings.instance,
    checkpointEverySeconds: settings.checkpoint.everySeconds,
    checkpointEveryRecords: settings.checkpoint.everyRecords,
    retentionDays: settings.retentionDays,
    failOpen: settings.failOpen,
    ...(log ? { log } : {}),
  });
}
