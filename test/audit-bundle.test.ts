import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportBundle, signingKeyFrom, verifyBundle } from '../src/audit/bundle.js';
import { canonicalBytes, sha256Hex } from '../src/audit/hashing.js';
import { SqliteAuditStore } from '../src/audit/sqlite-store.js';
import { decision, openLog, tempDir } from './audit-support.js';

/**
 * Tampering with an exported evidence bundle, verified offline from its files alone: each test
 * copies one untouched bundle (one sealed chain of 42 records), edits records.jsonl as a text
 * file, and checks that verification names the first bad record and the kind of tampering.
 */
describe('evidence bundle: offline verification and tamper evidence', () => {
  const dir = tempDir();
  const pristine = join(dir.path, 'bundle');

  before(async () => {
    const store = new SqliteAuditStore(join(dir.path, 'audit.db'));
    const { log } = await openLog(store, join(dir.path, 'keys'));
    for (let i = 0; i < 40; i += 4) await Promise.all([0, 1, 2, 3].map((j) => log.record(decision(i + j))));
    await log.close();
    const reader = new SqliteAuditStore(join(dir.path, 'audit.db'), { readonly: true });
    await reader.open();
    await exportBundle(reader, pristine, signingKeyFrom(join(dir.path, 'keys', 'audit-checkpoint.pem')));
    await reader.close();
  });
  after(() => dir.remove());

  /** Copies the bundle, rewrites its records.jsonl lines with `tamper`, verifies the copy. */
  async function verifyAfter(name: string, tamper?: (lines: string[]) => string[]) {
    const copy = join(dir.path, name);
    cpSync(pristine, copy, { recursive: true });
    if (tamper) {
      const file = join(copy, 'records.jsonl');
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
      writeFileSync(file, `${tamper(lines).join('\n')}\n`);
    }
    return verifyBundle(copy);
  }

  const recordOf = (line: string) => JSON.parse(line).record;

  test('the untouched bundle verifies offline: 42 records, sealed, signed manifest', async () => {
    const report = await verifyAfter('untouched');
    assert.equal(report.ok, true, JSON.stringify(report.finding));
    assert.equal(report.manifestSigned, true);
    assert.deepEqual([report.chains[0]!.records, report.chains[0]!.sealed], [42, true]);
  });

  test('one field edited in records.jsonl (user of record 9 changed to bob) → edited, record 9', async () => {
    const report = await verifyAfter('edited', (lines) => {
      lines[9] = lines[9]!.replace('"user":"alice"', '"user":"bob"');
      return lines;
    });
    assert.deepEqual([report.finding?.kind, report.finding?.position], ['edited', 9]);
  });

  test('a line deleted (record 20) → removed, record 20', async () => {
    const report = await verifyAfter('deleted', (lines) => lines.filter((_, i) => i !== 20));
    assert.deepEqual([report.finding?.kind, report.finding?.position], ['removed', 20]);
  });

  test('a forged record inserted before record 11, claiming position 11 and linking to record 10 with a valid hash → inserted, record 11', async () => {
    const report = await verifyAfter('inserted', (lines) => {
      const prev = recordOf(lines[10]!);
      const forged = { ...recordOf(lines[11]!), seq: 11, prev: sha256Hex(canonicalBytes(prev)), verdict: 'allow', tool: 'crm__delete_contact' };
      const line = `{"hash":"${sha256Hex(canonicalBytes(forged))}","record":${canonicalBytes(forged)}}`;
      return [...lines.slice(0, 11), line, ...lines.slice(11)];
    });
    assert.deepEqual([report.finding?.kind, report.finding?.position], ['inserted', 11], report.finding?.message);
    assert.match(report.finding!.message, /first of the two/);
  });

  test('two lines swapped (records 5 and 6) → reordered, record 5', async () => {
    const report = await verifyAfter('reordered', (lines) => {
      [lines[5], lines[6]] = [lines[6]!, lines[5]!];
      return lines;
    });
    assert.deepEqual([report.finding?.kind, report.finding?.position], ['reordered', 5]);
  });

  test('the tail cut after record 25, past the checkpoints at 30 and beyond → truncated, record 26', async () => {
    const report = await verifyAfter('truncated', (lines) => lines.slice(0, 26));
    assert.deepEqual([report.finding?.kind, report.finding?.position], ['truncated', 26]);
  });

  test("verification against a key the reviewer trusts instead of the bundle's own: a foreign key fails every checkpoint", async () => {
    const other = tempDir();
    try {
      const { keys } = await openLog(new SqliteAuditStore(join(other.path, 'x.db')), join(other.path, 'keys')).then(async (r) => {
        await r.log.close();
        return r;
      });
      const report = await verifyBundle(pristine, [keys.publicKeyPem]);
      assert.equal(report.finding?.kind, 'bad-checkpoint');
    } finally {
      other.remove();
    }
  });
});
