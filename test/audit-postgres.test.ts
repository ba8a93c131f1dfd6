import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { exportBundle, verifyBundle } from '../src/audit/bundle.js';
import { trustedKeys } from '../src/audit/checkpoint.js';
import { canonicalBytes, sha256Hex } from '../src/audit/hashing.js';
import { PostgresAuditStore } from '../src/audit/postgres-store.js';
import { verifyStore } from '../src/audit/verify-store.js';
import { decision, openLog, tempDir } from './audit-support.js';

/**
 * The PostgreSQL store against the real server at 127.0.0.1:5432 (trust auth, database test).
 * Each run works in its own schemas and drops them at the end. There is no skip: without
 * PostgreSQL these tests fail (CI starts it in .ci/run).
 */
const URL = process.env.TOOLGATE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RUN = `audit_t${process.pid}_${Date.now().toString(36)}`;
const TABLES = ['chains', 'records', 'checkpoints', 'payloads', 'keys'];
const admin = new pg.Pool({ connectionString: URL, max: 2 });
const dir = tempDir();
const schemas: string[] = [];
let pem = '';
let chain = '';

function schema(name: string): string {
  const s = `${RUN}_${name}`;
  schemas.push(s);
  return s;
}

before(async () => {
  const store = new PostgresAuditStore(URL, schema('main'));
  const { log, keys } = await openLog(store, join(dir.path, 'keys'));
  pem = keys.publicKeyPem;
  chain = log.chain;
  for (let i = 0; i < 30; i += 5) await Promise.all([0, 1, 2, 3, 4].map((j) => log.record(decision(i + j))));
  await log.close();
});

after(async () => {
  for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await admin.end();
  dir.remove();
});

/** Copies the pristine schema, tampers with the copy in SQL, verifies it. */
async function verifyAfter(name: string, tamper?: (s: string) => Promise<unknown>) {
  const src = `${RUN}_main`;
  const dst = schema(name);
  await admin.query(`CREATE SCHEMA ${dst}`);
  for (const t of TABLES) await admin.query(`CREATE TABLE ${dst}.${t} (LIKE ${src}.${t} INCLUDING ALL); INSERT INTO ${dst}.${t} SELECT * FROM ${src}.${t}`);
  if (tamper) await tamper(dst);
  const store = new PostgresAuditStore(URL, dst, { readonly: true });
  await store.open();
  try {
    return await verifyStore(store, trustedKeys([pem]));
  } finally {
    await store.close();
  }
}

describe('PostgreSQL audit store: tamper evidence', () => {
  test('an untouched log verifies; every stored body hashes to its stored hash (bytes kept exactly as hashed)', async () => {
    const report = await verifyAfter('untouched');
    assert.equal(report.ok, true, JSON.stringify(report.finding));
    assert.deepEqual([report.chains[0]!.records, report.chains[0]!.sealed], [32, true]);
    const rows = (await admin.query(`SELECT body, hash FROM ${RUN}_main.records`)).rows as Array<{ body: string; hash: string }>;
    assert.ok(rows.every((r) => sha256Hex(r.body) === r.hash && canonicalBytes(JSON.parse(r.body)) === r.body));
  });

  test('one field edited (tenant of record 5 changed to globex) → edited, record 5', async () => {
    const report = await verifyAfter('edited', (s) => admin.query(`UPDATE ${s}.records SET body = replace(body, '"tenant":"acme"', '"tenant":"globex"') WHERE seq = 5`));
    assert.deepEqual([report.finding?.kind, report.finding?.position], ['edited', 5]);
  });

  test('a record deleted (record 12) → removed, record 12', async () => {
    const report = await verifyAfter('deleted', (s) => admin.query(`DELETE FROM ${s}.records WHERE seq = 12`));
    assert.deepEqual([report.finding?.kind, report.finding?.position], ['removed', 12]);
  });

  test('a forged record inserted at position 7 (later rows shifted) → inserted, record 7', async () => {
    const report = await verifyAfter('inserted', async (s) => {
      const prev = (await admin.query(`SELECT hash FROM ${s}.records WHERE seq = 6`)).rows[0].hash as string;
      const forged = { v: 1, chain, seq: 7, prev, at: new Date().toISOString(), kind: 'decision', tool: 'crm__export_contacts', verdict: 'allow', policies: [] };
      const bytes = canonicalBytes(forged);
      await admin.query(`UPDATE ${s}.records SET seq = seq + 1000000 WHERE seq >= 7`);
      await admin.query(`UPDATE ${s}.records SET seq = seq - 999999 WHERE seq >= 1000000`);
      await admin.query(`INSERT INTO ${s}.records (chain, seq, prev, hash, at, kind, body) VALUES ($1, 7, $2, $3, $4, 'decision', $5)`, [
        chain,
        prev,
        sha256Hex(bytes),
        forged.at,
        bytes,
      ]);
    });
    assert.deepEqual([report.finding?.kind, report.finding?.position], ['inserted', 7], report.finding?.message);
  });

  test('two records reordered (positions 14 and 16 swapped) → reordered, record 14', async () => {
    const report = await verifyAfter('reordered', async (s) => {
      await admin.query(`UPDATE ${s}.records SET seq = -1 WHERE seq = 14`);
      await admin.query(`UPDATE ${s}.records SET seq = 14 WHERE seq = 16`);
      await admin.query(`UPDATE ${s}.records SET seq = 16 WHERE seq = -1`);
    });
    assert.deepEqual([report.finding?.kind, report.finding?.position], ['reordered', 14]);
  });

  test('the tail truncated past a checkpoint (everything after record 15 deleted) → truncated, record 16', async () => {
    const report = await verifyAfter('truncated', (s) => admin.query(`DELETE FROM ${s}.records WHERE seq > 15`));
    assert.deepEqual([report.finding?.kind, report.finding?.position], ['truncated', 16]);
  });

  test('an export of the PostgreSQL log verifies offline', async () => {
    const store = new PostgresAuditStore(URL, `${RUN}_main`, { readonly: true });
    await store.open();
    const out = join(dir.path, 'pg-bundle');
    await exportBundle(store, out);
    await store.close();
    const report = await verifyBundle(out);
    assert.equal(report.ok, true, JSON.stringify(report.finding));
    assert.equal(report.chains[0]!.records, 32);
  });
});

describe('PostgreSQL audit store: several instances', () => {
  test('two live instances write their own chains side by side; neither seals the other; a crashed one is sealed by the next start', async () => {
    const s = schema('multi');
    const a = await openLog(new PostgresAuditStore(URL, s), join(dir.path, 'keys'));
    const b = await openLog(new PostgresAuditStore(URL, s), join(dir.path, 'keys'));
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).log.record(decision(i))));
    const chains = (await admin.query(`SELECT chain, sealed_at FROM ${s}.chains`)).rows as Array<{ chain: string; sealed_at: string | null }>;
    assert.equal(chains.length, 2);
    assert.ok(
      chains.every((c) => c.sealed_at === null),
      'b must not seal a, which is alive',
    );

    // "Crash" b: its connection goes away without a seal, which releases its advisory lock.
    await (b.log as unknown as { store: PostgresAuditStore }).store.close();
    const c = await openLog(new PostgresAuditStore(URL, s), join(dir.path, 'keys'));
    const after = (await admin.query(`SELECT chain, sealed_at FROM ${s}.chains`)).rows as Array<{ chain: string; sealed_at: string | null }>;
    assert.ok(after.find((r) => r.chain === b.log.chain)!.sealed_at, 'the crashed chain is sealed');
    assert.equal(after.find((r) => r.chain === a.log.chain)!.sealed_at, null, 'the live chain is left alone');
    await a.log.close();
    await c.log.close();

    const store = new PostgresAuditStore(URL, s, { readonly: true });
    await store.open();
    const report = await verifyStore(store, trustedKeys([pem]));
    await store.close();
    assert.equal(report.ok, true, JSON.stringify(report.finding));
    assert.equal(report.chains.length, 3);
    assert.ok(report.chains.every((ch) => ch.sealed));
  });

  test('the database connection is killed under a running log (pg_terminate_backend): record() rejects and the state says failing; the next record reconnects and the chain verifies', async () => {
    const s = schema('killed');
    const { log } = await openLog(new PostgresAuditStore(URL, s), join(dir.path, 'keys'));
    await log.record(decision(1));
    // Only this log's connections: the store names them after its schema, unique to this run.
    const killed = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [`toolgate audit ${s}`.slice(0, 63)]);
    assert.ok((killed.rowCount ?? 0) >= 1);
    await assert.rejects(log.record(decision(2)), (err: Error & { code?: string }) => err.code === 'ERR_AUDIT_STORE');
    assert.equal(log.readiness().body.state, 'failing');
    // The next record reconnects (the chain's lock is still free, nobody sealed it) and the chain goes on without a gap.
    const ref = await log.record(decision(3));
    assert.equal(log.readiness().body.state, 'ready');
    assert.equal(ref?.position, 2);
    await log.close();
    const store = new PostgresAuditStore(URL, s, { readonly: true });
    await store.open();
    const report = await verifyStore(store, trustedKeys([pem]));
    await store.close();
    assert.equal(report.ok, true, JSON.stringify(report.finding));
  });
});
