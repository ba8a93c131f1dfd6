/**
 * Which audit store a CLI command reads: `--config FILE` (its audit: section), `--db FILE`
 * (SQLite), `--home DIR` (DIR/audit.db); default TOOLGATE_HOME or ./.toolgate. Shared by
 * `toolgate audit`, `toolgate report` and `toolgate policy suggest|shadow`.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type AuditSettings, resolveAudit, stateHome } from '../audit/config.js';
import { auditKeysDir, auditStoreFor } from '../audit/open.js';
import type { AuditStore } from '../audit/store.js';
import { loadConfig } from '../config/load.js';
import { UsageError } from './usage.js';

export interface StoreOptions {
  config?: string;
  db?: string;
  home?: string;
}

/** Opens the store read-only, runs `fn`, closes it. Throws UsageError when there is no database there. */
export async function withAuditStore<T>(options: StoreOptions, fn: (store: AuditStore, keysDir: string) => Promise<T>): Promise<T> {
  let settings: AuditSettings;
  let home: string;
  if (options.config) {
    const config = loadConfig(options.config);
    settings = config.audit ?? resolveAudit(undefined, '.');
    home = options.home ? resolve(options.home) : stateHome(config.source);
  } else {
    settings = resolveAudit(options.db ? { path: options.db } : undefined, process.cwd());
    home = options.home ? resolve(options.home) : process.env.TOOLGATE_HOME ? resolve(process.env.TOOLGATE_HOME) : resolve('.toolgate');
  }
  const store = auditStoreFor(settings, home, { readonly: true });
  if (store.kind === 'sqlite' && !existsSync(store.location)) throw new UsageError(`no audit database at ${store.location} (use --config, --db or --home)`);
  await store.open();
  try {
    return await fn(store, auditKeysDir(settings, home));
  } finally {
    await store.close();
  }
}

/** A time given on the command line (`--since`, `--until`). */
export function timeOption(text: string, flag: string): Date {
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) throw new UsageError(`${flag} expects a time like 2026-11-24 or 2026-11-24T09:00:00Z, got "${text}"`);
  return d;
}
