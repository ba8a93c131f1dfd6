/**
 * Records nobody waits on (outcome, session start/end, list) ride in the commit of the next
 * decision instead of starting their own — against a real SQLite store, whose commits are
 * counted at its append() (the real store does the work; the count is only observed).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { trustedKeys } from '../src/audit/checkpoint.js';
import { SqliteAuditStore } from '../src/audit/sqlite-store.js';
import { verifyStore } from '../src/audit/verify-store.js';
import type { AuditEvent } from '../src/pipeline/stages.js';
import { decision, openLog, tempDir } from './audit-support.js';

function outcomeOf(i: number): AuditEvent {
  return { ...decision(i), kind: 'outcome', decision: undefined, outcome: { status: 'ok', isError: false, latencyMs: 0.3, resultBytes: 10, resultHash: 'a'.repeat(64) } };
}

/** A real store whose commits (append calls, one transaction each) are counted with their sizes. */
function countedStore(path: string): { store: SqliteAuditStore; commits: number[] } {
  const store = new SqliteAuditStore(path);
  const commits: number[] = [];
  const append = store.append.bind(store);
  store.append = (records, payloads) => {
    commits.push(records.length);
    return append(records, payloads);
  };
  return { store, commits };
}

async function verifyFile(path: string, pem: string): Promise<{ ok: boolean }> {
  const reader = new SqliteAuditStore(path, { readonly: true });
  await reader.open();
  try {
    const report = await verifyStore(reader, trustedKeys([pem]));
    assert.equal(report.ok, true, JSON.stringify(report.finding));
    return report;
  } finally {
    await reader.close();
  }
}

describe('audit log: lingering records', () => {
  const dir = tempDir();
  after(() => dir.remove());

  test("an outcome followed by the next call's decision: both in one commit, in arrival order, and the chain verifies", async () => {
    const { store, commits } = countedStore(join(dir.path, 'pair.db'));
    const { log, keys } = await openLog(store, join(dir.path, 'keys'));
    const before = commits.length;
    const first = await log.record(decision(1));
    const outcome = log.record(outcomeOf(1));
    await new Promise((r) => setImmediate(r)); // the client's next request comes later, not in the same turn
    const second = await log.record(decision(2));
    const outcomeRef = await outcome;
    assert.deepEqual(commits.slice(before), [1, 2], 'decision 1 alone, then outcome 1 with decision 2');
    assert.ok(first && outcomeRef && second);
    assert.deepEqual([outcomeRef.position, second.position], [first.position + 1, first.position + 2]);
    await log.close();
    assert.equal((await verifyFile(store.path, keys.publicKeyPem)).ok, true);
  });

  test('an outcome with nothing after it is still committed on its own (after the linger), and a session end too', async () => {
    const { store, commits } = countedStore(join(dir.path, 'alone.db'));
    const { log } = await openLog(store, join(dir.path, 'keys'));
    const before = commits.length;
    const ref = await log.record(outcomeOf(7));
    const end = await log.record({ kind: 'session.end', at: new Date(), sessionId: 'sess-1', detail: { reason: 'client DELETE' } });
    assert.ok(ref && end, 'both resolved with their place in the chain');
    assert.deepEqual(commits.slice(before), [1, 1]);
    const rows = await store.query({ chain: log.chain, kind: 'outcome' });
    assert.equal(rows.length, 1);
    assert.equal(JSON.parse(rows[0]!.body!).request, 'req-7');
    await log.close();
  });

  test('a decision is not held back by lingering: with outcomes queued it starts a commit at once', async () => {
    const { store, commits } = countedStore(join(dir.path, 'burst.db'));
    const { log, keys } = await openLog(store, join(dir.path, 'keys'), undefined, { everyRecords: 1000 });
    const before = commits.length;
    const outcomes = [1, 2, 3].map((i) => log.record(outcomeOf(i)));
    const ref = await log.record(decision(4));
    await Promise.all(outcomes);
    assert.deepEqual(commits.slice(before), [4], 'three outcomes and the decision in one commit');
    assert.ok(ref);
    await log.close();
    assert.equal((await verifyFile(store.path, keys.publicKeyPem)).ok, true);
  });
});
