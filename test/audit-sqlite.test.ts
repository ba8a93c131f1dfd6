import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { trustedKeys } from '../src/audit/checkpoint.js';
import { canonicalBytes, sha256Hex } from '../src/audit/hashing.js';
import { SqliteAuditStore } from '../src/audit/sqlite-store.js';
import { verifyStore } from '../src/audit/verify-store.js';
import { decision, openLog, tempDir } from './audit-support.js';

/**
 * Tampering with a real SQLite audit file: each test copies one sealed, untouched log (32
 * records, checkpoints every 10), changes it with plain SQL the way someone with file access
 * would, and checks that verification names the first bad record and the kind of tampering.
 */
describe('SQLite audit log: tamper evidence', () => {
  const dir = tempDir();
  const pristine = join(dir.path, 'pristine.db');
  let pem = '';
  let chain = '';

  before(async () => {
    const store = new SqliteAuditStore(pristine);
    const { log, keys } = await openLog(store, join(dir.path, 'keys'));
    pem = keys.publicKeyPem;
    chain = log.chain;
    for (let i = 0; i < 30; i += 5) await Promise.all([0, 1, 2, 3, 4].map((j) => log.record(decision(i + j))));
    await log.close();
  });
  after(() => dir.remove());

  /** Copies the pristine log, applies `tamper` with SQL, verifies the copy. */
  async function verifyAfter(name: string, tamper?: (db: Database.Database) => void) {
    const path = join(dir.path, `${name}.db`);
    copyFileSync(pristine, path);
    if (tamper) {
      const db = new Database(path);
      tamper(db);
      db.close();
    }
    const store = new SqliteAuditStore(path, { readonly: true });
    await store.open();
    try {
      return await verifyStore(store, trustedKeys([pem]));
    } finally {
      await store.close();
    }
  }

  test('an untouched log verifies: 32 records (start, 30 decisions, seal), sealed, checkpoints signed', async () => {
    const report = await verifyAfter('untouched');
    assert.equal(report.ok, true, JSON.stringify(report.finding));
    assert.equal(report.chains.length, 1);
    assert.equal(report.chains[0]!.records, 32);
    assert.equal(report.chains[0]!.sealed, true);
    assert.ok(report.chains[0]!.checkpoints >= 3);
  });

  test('one field edited (agent of record 5 changed to report-bot) → edited, record 5', async () => {
    const report = await verifyAfter('edited', (db) => {
      const changes = db.prepare(`UPDATE records SET body = replace(body, '"agent":"sales-bot"', '"agent":"report-bot"') WHERE seq = 5`).run().changes;
      assert.equal(changes, 1);
    });
    assert.equal(report.ok, false);
    assert.deepEqual([report.finding?.kind, report.finding?.position], ['edited', 5]);
  });

  test('one field edited and its hash column recomputed (verdict of record 8) → edited, record 8', async () => {
    const report = await verifyAfter('rehashed', (db) => {
      const row = db.prepare('SELECT body FROM records WHERE seq = 8').get() as { body: string };
      const body = JSON.parse(row.body);
      body.verdict = body.verdict === 'allow' ? 'deny' : 'allow';
      const bytes = canonicalBytes(body);
      db.prepare('UPDATE records SET body = ?, hash = ? WHERE seq = 8').run(bytes, sha256Hex(bytes));
    });
    assert.deepEqual([report.finding?.kind, report.finding?.position], ['edited', 8]);
  });

  test('a record deleted (record 12) → removed, record 12', async () => {
    const report = await verifyAfter('deleted', (db) => db.prepare('DELETE FROM records WHERE seq = 12').run());
    assert.deepEqual([report.finding?.kind, report.finding?.position], ['removed', 12]);
  });

  test('a forged record inserted at position 7 (later rows shifted, forged hash valid and linked) → inserted, record 7', async () => {
    const report = await verifyAfter('inserted', (db) => {
      const prev = db.prepare('SELECT hash FROM records WHERE seq = 6').get() as { hash: string };
      const forged = {
        v: 1,
        chain,
        seq: 7,
        prev: prev.hash,
        at: new Date().toISOString(),
        kind: 'decision',
        tool: 'crm__delete_contact',
        verdict: 'allow',
        policies: [],
        principal: { agent: 'cleanup-bot', scopes: [] },
      };
      const bytes = canonicalBytes(forged);
      db.prepare('UPDATE records SET seq = seq + 1000000 WHERE seq >= 7').run();
      db.prepare('UPDATE records SET seq = seq - 999999 WHERE seq >= 1000000').run();
      db.prepare('INSERT INTO records (chain, seq, prev, hash, at, kind, body) VALUES (?, 7, ?, ?, ?, ?, ?)').run(chain, prev.hash, sha256Hex(bytes), forged.at, 'decision', bytes);
    });
    assert.deepEqual([report.finding?.kind, report.finding?.position], ['inserted', 7], report.finding?.message);
  });

  test('two records reordered (positions 14 and 16 swapped) → reordered, record 14', async () => {
    const report = await verifyAfter('reordered', (db) => {
      db.prepare('UPDATE records SET seq = -1 WHERE seq = 14').run();
      db.prepare('UPDATE records SET seq = 14 WHERE seq = 16').run();
      db.prepare('UPDATE records SET seq = 16 WHERE seq = -1').run();
    });
    assert.deepEqual([report.finding?.kind, report.finding?.position], ['reordered', 14]);
  });

  test('the tail truncated past a checkpoint (everything after record 15 deleted) → truncated, record 16', async () => {
    const report = await verifyAfter('truncated', (db) => db.prepare('DELETE FROM records WHERE seq > 15').run());
    assert.deepEqual([report.finding?.kind, report.finding?.position], ['truncated', 16]);
  });

  test('a checkpoint re-signed with another key → bad-checkpoint', async () => {
    const report = await verifyAfter('resigned', (db) => {
      const row = db.prepare('SELECT body, position FROM checkpoints ORDER BY position LIMIT 1').get() as { body: string; position: number };
      const cp = JSON.parse(row.body);
      cp.sig = Buffer.alloc(64, 1).toString('base64url');
      db.prepare('UPDATE checkpoints SET body = ? WHERE position = ?').run(JSON.stringify(cp), row.position);
    });
    assert.equal(report.finding?.kind, 'bad-checkpoint');
  });
});
