import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { trustedKeys } from '../src/audit/checkpoint.js';
import { PostgresAuditStore } from '../src/audit/postgres-store.js';
import { SqliteAuditStore } from '../src/audit/sqlite-store.js';
import { instructionColumn } from '../src/audit/store.js';
import { verifyStore } from '../src/audit/verify-store.js';
import { decision, openLog, tempDir } from './audit-support.js';

/**
 * The instruction ids in records, built through ChainedAuditLog over a real SQLite file: on the
 * decision and its outcome, scrubbed of credentials, and the index column derived from the
 * hashed body exactly as `instructionColumn` writes it.
 */
const GITHUB_TOKEN = `ghp_${'R8x2Kq9LmZ4vB7nT1pW6yC3dF0gH5jS2aE9u'}`;

test('instruction ids: on decision and outcome, secrets scrubbed, column derived from the body, lookups exact, the log verifies', async () => {
  const dir = tempDir();
  try {
    const store = new SqliteAuditStore(join(dir.path, 'audit.db'));
    const { log } = await openLog(store, join(dir.path, 'keys'));
    const ctx = (instruction: Record<string, string>) => ({ requestId: 'r', protocolVersion: '2025-11-25', receivedAt: new Date(), instruction });
    const d = await log.record({ ...decision(1), context: ctx({ 'instruction.id': 'i-42', 'task.id': GITHUB_TOKEN }) });
    assert.ok(d);
    await log.record({
      ...decision(2),
      kind: 'outcome',
      outcome: { status: 'ok', latencyMs: 1 },
      links: { decision: d },
      context: ctx({ 'instruction.id': 'i-42', 'task.id': GITHUB_TOKEN }),
    });
    await log.record({ ...decision(3), context: ctx({ 'job.id': 'x=i-42' }) });
    await log.record(decision(4));
    await log.close();

    const reader = new SqliteAuditStore(join(dir.path, 'audit.db'), { readonly: true });
    await reader.open();
    const rows = await reader.query({ instruction: 'i-42' });
    assert.deepEqual(
      rows.map((r) => r.kind),
      ['decision', 'outcome'],
      'a value containing "=i-42" is not the id i-42',
    );
    for (const r of rows) {
      const body = JSON.parse(r.body!);
      assert.deepEqual(body.instruction, { 'instruction.id': 'i-42', 'task.id': '$redacted:github-token' });
      assert.equal(r.instruction, instructionColumn(body.instruction));
      assert.ok(!r.body!.includes(GITHUB_TOKEN));
    }
    assert.equal(rows[0]!.instruction, '\ninstruction.id\ti-42\ntask.id\t$redacted:github-token\n');
    assert.equal((await reader.query({ instruction: 'job.id=x=i-42' })).length, 1);
    assert.equal((await reader.query({ instruction: 'task.id=i-42' })).length, 0);
    const all = await reader.query({ kind: 'decision' });
    assert.equal(all.find((r) => r.request === 'req-4')?.instruction, null, 'a call without ids has none');
    const report = await verifyStore(reader, trustedKeys(await reader.publicKeys()));
    assert.equal(report.ok, true, JSON.stringify(report.finding));
    await reader.close();
  } finally {
    dir.remove();
  }
});

test('PostgreSQL: a schema from before the column is read as having no instruction ids, and gets the column when opened for writing', async () => {
  const url = process.env.TOOLGATE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `instr_t${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await admin.query(
      `CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.records (chain text NOT NULL, seq bigint NOT NULL, prev text NOT NULL, hash text NOT NULL, at text NOT NULL, kind text NOT NULL, agent_id text, user_id text, tenant text, tool text, verdict text, session text, trace text, request text, body text, PRIMARY KEY (chain, seq));
       INSERT INTO ${schema}.records (chain, seq, prev, hash, at, kind, body) VALUES ('c', 0, '0', 'h', '2026-01-01T00:00:00.000Z', 'chain.start', '{}')`,
    );
    const old = new PostgresAuditStore(url, schema, { readonly: true });
    await old.open();
    assert.deepEqual(await old.query({ instruction: 'i-42' }), []);
    assert.equal((await old.query({})).length, 1, 'the older rows still read');
    await old.close();
    const writer = new PostgresAuditStore(url, schema);
    await writer.open();
    await writer.close();
    const columns = await admin.query("SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'records'", [schema]);
    assert.ok(columns.rows.some((r) => r.column_name === 'instruction'));
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
});
