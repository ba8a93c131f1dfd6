import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteAuditStore } from '../src/audit/sqlite-store.js';
import { parseConfig } from '../src/config/load.js';
import { decision, openLog, tempDir } from './audit-support.js';

const UPSTREAMS = 'upstreams:\n  - id: crm\n    url: http://127.0.0.1:9/mcp\n';

test('no audit section: absent from the config (the gateway then uses SQLite under its state folder)', () => {
  assert.equal(parseConfig(UPSTREAMS, '/srv/toolgate.yaml').audit, undefined);
});

test('audit section resolved: defaults filled, relative paths against the config folder', () => {
  const config = parseConfig(
    `${UPSTREAMS}audit:\n  path: state/audit.db\n  keys: keys\n  redaction:\n    tools:\n      crm__create_contact: { email: hmac, "address.*": drop }\n`,
    '/srv/toolgate.yaml',
  );
  assert.equal(config.audit?.path, '/srv/state/audit.db');
  assert.equal(config.audit?.keys, '/srv/keys');
  assert.deepEqual([config.audit?.store, config.audit?.retentionDays, config.audit?.failOpen, config.audit?.checkpoint.everySeconds], ['sqlite', 180, false, 10]);
  assert.deepEqual(config.audit?.redaction, { default: 'keep', detectSecrets: true, tools: { crm__create_contact: { email: 'hmac', 'address.*': 'drop' } } });
});

test('bad audit config: postgres without url, url with sqlite, an unknown redaction mode, retention "forever" → each named by key', () => {
  const attempt = (yaml: string): string => {
    try {
      parseConfig(`${UPSTREAMS}${yaml}`, 'bad.yaml');
      return '';
    } catch (err) {
      return (err as Error).message;
    }
  };
  assert.match(attempt('audit:\n  store: postgres\n'), /audit\.url: store: postgres needs url/);
  assert.match(attempt('audit:\n  url: postgres://x@h/db\n'), /audit\.url: url is for store: postgres/);
  assert.match(attempt('audit:\n  redaction:\n    default: hide\n'), /audit\.redaction\.default: expected one of keep, hmac, commit, drop/);
  assert.match(attempt('audit:\n  retention_days: forever\n'), /audit\.retention_days: expected a positive number of days/);
});

test('fail_open: true — with the records table dropped, record() resolves without a reference and readiness shows the failure', async () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'audit.db');
    const { log } = await openLog(new SqliteAuditStore(path), join(dir.path, 'keys'), undefined, { failOpen: true });
    assert.ok(await log.record(decision(1)));
    const vandal = new Database(path);
    vandal.exec('DROP TABLE records');
    vandal.close();
    assert.equal(await log.record(decision(2)), undefined);
    assert.deepEqual([log.readiness().body.state, log.readiness().body.failOpen], ['failing', true]);
    await log.close();
  } finally {
    dir.remove();
  }
});
