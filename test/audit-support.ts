/** Helpers shared by the audit tests: a log over a given store, sample events, tampering by SQL. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChainedAuditLog } from '../src/audit/chained-log.js';
import { type AuditKeys, loadAuditKeys } from '../src/audit/keys.js';
import { type RedactionRules, Redactor } from '../src/audit/redaction.js';
import type { AuditStore } from '../src/audit/store.js';
import type { AuditEvent } from '../src/pipeline/stages.js';

export function tempDir(prefix = 'toolgate-audit-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export const DEFAULT_RULES: RedactionRules = { default: 'keep', detectSecrets: true, tools: {} };

export async function openLog(
  store: AuditStore,
  keysDir: string,
  rules: RedactionRules = DEFAULT_RULES,
  overrides: { everyRecords?: number; failOpen?: boolean } = {},
): Promise<{ log: ChainedAuditLog; keys: AuditKeys }> {
  const keys = loadAuditKeys(keysDir);
  const log = await ChainedAuditLog.open(store, keys, new Redactor(rules, keys.hmacMaster), {
    instance: 'test-instance',
    checkpointEverySeconds: 3600,
    checkpointEveryRecords: overrides.everyRecords ?? 10,
    retentionDays: 180,
    failOpen: overrides.failOpen ?? false,
  });
  return { log, keys };
}

/** A decision as dispatch.ts sends it, for sales-bot acting for alice. */
export function decision(i: number, args: Record<string, unknown> = { id: `c-${i}`, tenant: 'acme' }): AuditEvent {
  return {
    kind: 'decision',
    at: new Date(),
    requestId: `req-${i}`,
    sessionId: 'sess-1',
    principal: { agent: 'sales-bot', user: 'alice', tenant: 'acme', scopes: ['crm.read'], bindingKey: 'k', anonymous: false },
    invocation: { method: 'tools/call', upstream: 'crm', target: 'get_contact', exposedName: 'crm__get_contact', arguments: args },
    decision: { verdict: i % 7 === 3 ? 'deny' : 'allow', policies: ['policy0'], errors: [] },
  };
}
