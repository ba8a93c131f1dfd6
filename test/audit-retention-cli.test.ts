import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { exportBundle, verifyBundle } from '../src/audit/bundle.js';
import { trustedKeys } from '../src/audit/checkpoint.js';
import { SqliteAuditStore } from '../src/audit/sqlite-store.js';
import { verifyStore } from '../src/audit/verify-store.js';
import { decision, openLog, tempDir } from './audit-support.js';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const COMMITTED = 'Private remark about Dana, to be erased';

describe('retention: payloads go, hashes and checkpoints stay', () => {
  test('after the retention period every body and committed value is gone (also from the file bytes), and the log and its export still verify', async () => {
    const dir = tempDir();
    try {
      const path = join(dir.path, 'audit.db');
      const rules = { default: 'keep' as const, detectSecrets: true, tools: { crm__get_contact: { note: 'commit' as const } } };
      const { log, keys } = await openLog(new SqliteAuditStore(path), join(dir.path, 'keys'), rules);
      for (let i = 0; i < 12; i++) await log.record(decision(i, { tenant: 'acme', contact_id: 'ct_1001', note: COMMITTED }));
      await log.close();
      assert.ok(readFileSync(path).includes(COMMITTED), 'before expiry the committed value is in the payloads table');

      const store = new SqliteAuditStore(path, { writerThread: false });
      await store.open();
      const removed = await store.expire(new Date(Date.now() + 60_000)); // as if the period had passed
      assert.equal(removed.payloads, 12);
      assert.ok(removed.records >= 14);
      const report = await verifyStore(store, trustedKeys([keys.publicKeyPem]));
      assert.equal(report.ok, true, JSON.stringify(report.finding));
      assert.equal(report.chains[0]!.expired, report.chains[0]!.records);
      await exportBundle(store, join(dir.path, 'bundle'));
      await store.close();
      for (const f of readdirSync(dir.path).filter((n) => n.startsWith('audit.db'))) {
        const bytes = readFileSync(join(dir.path, f));
        assert.equal(bytes.includes(COMMITTED), false, `committed value still in ${f}`);
        assert.equal(bytes.includes('"agent":"sales-bot"'), false, `a record body still in ${f}`);
      }
      assert.equal((await verifyBundle(join(dir.path, 'bundle'))).ok, true);
    } finally {
      dir.remove();
    }
  });
});

describe('toolgate audit (the CLI, as a process)', () => {
  const dir = tempDir();
  const db = join(dir.path, 'audit.db');
  let keyFile = '';

  before(async () => {
    const { log, keys } = await openLog(new SqliteAuditStore(db), join(dir.path, 'keys'));
    for (let i = 0; i < 20; i++) await log.record(decision(i));
    await log.close();
    keyFile = join(dir.path, 'trusted.pem');
    writeFileSync(keyFile, keys.publicKeyPem);
  });
  after(() => dir.remove());

  const cli = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', MAIN, 'audit', ...args], { env: { ...process.env, TOOLGATE_HOME: dir.path } }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  test('verify on an untouched file: exit 0, OK line; query filters by verdict as JSON; export then verify --bundle: exit 0', async () => {
    const ok = await cli('verify', '--db', db, '--trust-key', keyFile);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /OK: 22 records verified/);
    const denied = await cli('query', '--db', db, '--verdict', 'deny', '--json');
    const rows = JSON.parse(denied.stdout) as Array<{ record: { verdict: string; principal: { user: string } } }>;
    assert.ok(rows.length > 0 && rows.every((r) => r.record.verdict === 'deny' && r.record.principal.user === 'alice'));
    const table = await cli('query', '--db', db, '--user', 'alice', '--tool', 'crm__get_contact', '--limit', '3');
    assert.match(table.stdout, /3 record\(s\)/);
    const out = join(dir.path, 'bundle');
    const exported = await cli('export', '--db', db, '--out', out);
    assert.equal(exported.code, 0, exported.stderr);
    const offline = await cli('verify', '--bundle', out);
    assert.equal(offline.code, 0, offline.stdout + offline.stderr);
  });

  test('verify on a file with record 7 edited: exit 1, names record 7 and "edited"', async () => {
    const copy = join(dir.path, 'edited.db');
    writeFileSync(copy, readFileSync(db));
    const h = new Database(copy);
    h.prepare(`UPDATE records SET body = replace(body, '"verdict":"allow"', '"verdict":"deny"') WHERE seq = 7`).run();
    h.close();
    const res = await cli('verify', '--db', copy, '--trust-key', keyFile);
    assert.equal(res.code, 1);
    assert.match(res.stdout, /FAILED: edited at record 7 of chain/);
  });

  test('bad input: --since "yesterday-ish" → exit 2 naming the flag; unknown subcommand → exit 2', async () => {
    const since = await cli('query', '--db', db, '--since', 'yesterday-ish');
    assert.equal(since.code, 2);
    assert.match(since.stderr, /--since expects a time/);
    const unknown = await cli('frobnicate');
    assert.equal(unknown.code, 2);
  });
});
