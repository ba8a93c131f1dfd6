import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import Database from 'better-sqlite3';
import pg from 'pg';
import { type CrmServerHandle, startCrmServer } from '../examples/crm/server.js';
import { loadConfig } from '../src/config/load.js';
import { type RunningGateway, startGateway } from '../src/gateway.js';
import { silentLogger } from '../src/log.js';
import type { AuditEvent } from '../src/pipeline/stages.js';
import { tempDir } from './audit-support.js';

/**
 * `toolgate audit trace` and `toolgate audit show`, run as their own process against what a real
 * gateway wrote (SQLite in a temp home, then PostgreSQL at 127.0.0.1:5432, database test) for
 * SDK v1 clients calling the example CRM. Each client sends its own W3C `traceparent` header.
 * The instruction ids: the gateway does not yet take them from baggage or `_meta` here, so the
 * test sets `RequestContext.instruction` where that extraction will: on the request's context,
 * by wrapping the gateway's audit sink (`RunningGateway.audit`) to fill `event.context.instruction`
 * from the trace id before the event is recorded. Everything after that — record, columns,
 * query, CLI — is the real path.
 */
const PG_URL = process.env.TOOLGATE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const POLICY = `@id("permit-all")
permit (principal, action, resource);

@id("no-ct-1002")
forbid (principal, action == Action::"crm/get_contact", resource)
when { context.arguments has contact_id && context.arguments.contact_id == "ct_1002" };
`;
const TRACE_A = `${'a'.repeat(31)}1`;
const TRACE_B = `${'b'.repeat(31)}2`;
const TRACE_C = `${'c'.repeat(31)}3`;
/** Instruction i-42 (trace A): five calls, one denied. Task t-7 (trace B): two calls. Trace C: none. */
const INSTRUCTIONS: Record<string, Record<string, string>> = {
  [TRACE_A]: { 'instruction.id': 'i-42' },
  [TRACE_B]: { 'task.id': 't-7', 'instruction.id': 'i-43' },
};
const CALLS_A = ['ct_1001', 'ct_1002', 'ct_1003', 'ct_1001', 'ct_1003'];

interface Run {
  code: number | null;
  out: string;
  err: string;
}

function cli(...args: string[]): Promise<Run> {
  const env = { ...process.env };
  delete env.TOOLGATE_HOME;
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'audit', ...args], { env }, (error, out, err) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, out, err });
    });
  });
}

/** Fills the context's instruction ids from its trace id, where the endpoint will set them from baggage or `_meta`. */
function threadInstructions(gw: RunningGateway): void {
  const record = gw.audit.record.bind(gw.audit);
  gw.audit.record = (event: AuditEvent) => {
    const trace = event.context?.traceparent?.split('-')[1];
    const ids = trace ? INSTRUCTIONS[trace] : undefined;
    if (event.context && ids) event.context.instruction = ids;
    return record(event);
  };
}

async function client(url: string, trace: string): Promise<Client> {
  const c = new Client({ name: 'trace-test', version: '1' });
  const traceparent = `00-${trace}-${'0'.repeat(15)}1-01`;
  await c.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { traceparent } } }));
  return c;
}

let crm: CrmServerHandle;
before(async () => {
  crm = await startCrmServer({ port: 0 });
});
after(async () => {
  await crm?.close();
});

/** Writes the config, runs the traffic of three clients interleaved, closes the gateway. */
async function traffic(dir: string, auditYaml: string): Promise<string> {
  mkdirSync(join(dir, 'policies'), { recursive: true });
  writeFileSync(join(dir, 'policies', 'all.cedar'), POLICY);
  const config = join(dir, 'toolgate.yaml');
  writeFileSync(config, `listener:\n  port: 0\nupstreams:\n  - id: crm\n    url: ${crm.url}\npolicy:\n  files: policies/\n${auditYaml}`);
  const gw = await startGateway(loadConfig(config), { logger: silentLogger, home: join(dir, '.toolgate') });
  try {
    threadInstructions(gw);
    const [a, b, c] = [await client(gw.url, TRACE_A), await client(gw.url, TRACE_B), await client(gw.url, TRACE_C)];
    for (let i = 0; i < CALLS_A.length; i++) {
      await a.callTool({ name: 'crm__get_contact', arguments: { tenant: 'acme', contact_id: CALLS_A[i] } }).catch(() => undefined);
      if (i < 2) await b.callTool({ name: 'crm__get_contact', arguments: { tenant: 'acme', contact_id: 'ct_1003' } });
      await c.callTool({ name: 'crm__get_contact', arguments: { tenant: 'acme', contact_id: 'ct_1001' } });
    }
    await Promise.all([a.close(), b.close(), c.close()]);
  } finally {
    await gw.close();
  }
  return config;
}

interface Tree {
  calls: number;
  sessions: Array<{
    users: Array<{
      agents: Array<{
        calls: Array<{
          at: string;
          tool: string;
          args: { contact_id: string };
          verdict: string;
          policies: string[];
          outcome?: { status: string };
          record: { chain: string; position: number; hash: string };
        }>;
      }>;
    }>;
  }>;
}

function callsOf(tree: Tree) {
  return tree.sessions.flatMap((s) => s.users.flatMap((u) => u.agents.flatMap((a) => a.calls)));
}

function suite(name: string, setup: () => Promise<{ config: string; cleanup(): Promise<void> }>): void {
  describe(`audit trace / show (${name})`, () => {
    let config = '';
    let cleanup: () => Promise<void> = async () => undefined;
    before(async () => {
      ({ config, cleanup } = await setup());
    });
    after(async () => {
      await cleanup();
    });

    test('trace --instruction i-42: its five calls, in order, the denied one with its verdict and policy, nothing else', async () => {
      const r = await cli('trace', '--instruction', 'i-42', '--config', config, '--json');
      assert.equal(r.code, 0, r.err);
      const tree = JSON.parse(r.out) as Tree;
      const calls = callsOf(tree);
      assert.equal(tree.calls, 5);
      assert.deepEqual(
        calls.map((c) => c.args.contact_id),
        CALLS_A,
      );
      assert.deepEqual(
        calls.map((c) => c.verdict),
        ['allow', 'deny', 'allow', 'allow', 'allow'],
      );
      assert.deepEqual(calls[1]!.policies, ['no-ct-1002']);
      assert.equal(calls[1]!.outcome, undefined, 'a denied call has no outcome');
      for (const i of [0, 2, 3, 4]) assert.equal(calls[i]!.outcome?.status, 'ok');
      const times = calls.map((c) => c.at);
      assert.deepEqual(times, [...times].sort());
      assert.equal(tree.sessions.length, 1, 'one session (client A)');
    });

    test('trace --instruction KEY=VALUE names the key; the same value under another key does not match', async () => {
      const byKey = JSON.parse((await cli('trace', '--instruction', 'task.id=t-7', '--config', config, '--json')).out) as Tree;
      assert.equal(byKey.calls, 2);
      const wrongKey = await cli('trace', '--instruction', 'instruction.id=t-7', '--config', config);
      assert.equal(wrongKey.code, 1);
      assert.match(wrongKey.err, /no calls recorded for instruction instruction\.id=t-7/);
    });

    test('trace TRACE_ID: the calls of one trace; the text tree names session, user, agent and each call', async () => {
      const r = await cli('trace', TRACE_B, '--config', config);
      assert.equal(r.code, 0, r.err);
      assert.match(
        r.out,
        new RegExp(
          `^trace ${TRACE_B}: 2 call\\(s\\)\nsession \\S+\n  user .+\n    agent .+\n      \\S+Z  crm__get_contact  \\{"contact_id":"ct_1003","tenant":"acme"\\}  allow  by permit-all  ok in [\\d.]+ ms  [0-9a-f]{8}:\\d+\n`,
        ),
      );
    });

    test('show by hash, by chain:position (prefix) and the outcome lead back to instruction i-42 and its command', async () => {
      const calls = callsOf(JSON.parse((await cli('trace', '--instruction', 'i-42', '--config', config, '--json')).out) as Tree);
      const denied = calls[1]!.record;
      for (const name of [denied.hash, `${denied.chain}:${denied.position}`, `${denied.chain.slice(0, 8)}:${denied.position}`]) {
        const r = await cli('show', name, '--config', config, '--json');
        assert.equal(r.code, 0, `${name}: ${r.err}`);
        const view = JSON.parse(r.out);
        assert.equal(view.record.hash, denied.hash, name);
        assert.deepEqual(view.instruction, { 'instruction.id': 'i-42' }, name);
        assert.equal(view.trace, TRACE_A);
        assert.equal(view.decision.body.verdict, 'deny');
        assert.equal(view.outcome, undefined);
        assert.ok(view.next.includes(`toolgate audit trace --instruction 'instruction.id=i-42' --config ${config}`), view.next.join('\n'));
      }
      const allowed = calls[0]!.record;
      const text = await cli('show', allowed.hash, '--config', config);
      assert.equal(text.code, 0, text.err);
      assert.match(
        text.out,
        /\ndecision [0-9a-f]{8}:\d+ .+ crm__get_contact {2}allow by permit-all\noutcome {2}[0-9a-f]{8}:\d+ .+ ok in [\d.]+ ms\ninstruction instruction\.id=i-42\ntrace a+1\n/,
      );
      const view = JSON.parse((await cli('show', allowed.hash, '--config', config, '--json')).out);
      const outcome = await cli('show', `${view.outcome.chain}:${view.outcome.position}`, '--config', config, '--json');
      assert.equal(JSON.parse(outcome.out).decision.hash, allowed.hash, 'an outcome leads to its decision');
      assert.deepEqual(JSON.parse(outcome.out).instruction, { 'instruction.id': 'i-42' });
    });

    test('unknown ids: exit 1 and a clear message; bad arguments: exit 2', async () => {
      const unknown = await cli('trace', '--instruction', 'i-999', '--config', config);
      assert.deepEqual([unknown.code, unknown.err.trim()], [1, 'toolgate audit trace: no calls recorded for instruction i-999']);
      const noRecord = await cli('show', 'f'.repeat(64), '--config', config);
      assert.equal(noRecord.code, 1);
      assert.match(noRecord.err, /^toolgate audit show: no record f{64} in /);
      for (const args of [
        ['trace', 'not-a-trace'],
        ['trace'],
        ['trace', TRACE_A, '--instruction', 'i-42'],
        ['show'],
        ['show', 'nonsense'],
        ['show', '12345678-1234-1234-1234-123456789abc'],
      ]) {
        const r = await cli(...args, '--config', config);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      }
    });
  });
}

suite('SQLite', async () => {
  const dir = tempDir('toolgate-trace-');
  const config = await traffic(dir.path, '');
  return { config, cleanup: async () => dir.remove() };
});

suite('PostgreSQL', async () => {
  const dir = tempDir('toolgate-trace-pg-');
  const schema = `trace_t${process.pid}_${Date.now().toString(36)}`;
  const config = await traffic(dir.path, `audit:\n  store: postgres\n  url: ${PG_URL}\n  schema: ${schema}\n`);
  return {
    config,
    cleanup: async () => {
      const admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
      dir.remove();
    },
  };
});

describe('--help', () => {
  test('audit trace --help and audit show --help print the usage with both verbs, exit 0', async () => {
    for (const verb of ['trace', 'show']) {
      const r = await cli(verb, '--help');
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /toolgate audit trace TRACE_ID .*\n\s+toolgate audit trace --instruction ID/);
      assert.match(r.out, /toolgate audit show RECORD/);
    }
  });
});

describe('the instruction column on a file from before it', () => {
  test('opening an older SQLite file adds the column; read-only before that, a lookup finds nothing instead of failing', async () => {
    const dir = tempDir('toolgate-trace-old-');
    try {
      const path = join(dir.path, 'audit.db');
      const db = new Database(path);
      db.exec(
        'CREATE TABLE records (chain TEXT NOT NULL, seq INTEGER NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL, at TEXT NOT NULL, kind TEXT NOT NULL, agent_id TEXT, user_id TEXT, tenant TEXT, tool TEXT, verdict TEXT, session TEXT, trace TEXT, request TEXT, body TEXT, PRIMARY KEY (chain, seq)) WITHOUT ROWID',
      );
      db.close();
      const before = await cli('trace', '--instruction', 'i-1', '--db', path);
      assert.equal(before.code, 1, `read-only, not migrated: no calls (${before.err})`);
      const { SqliteAuditStore } = await import('../src/audit/sqlite-store.js');
      const store = new SqliteAuditStore(path, { writerThread: false });
      await store.open();
      await store.close();
      const columns = (new Database(path).prepare('PRAGMA table_info(records)').all() as Array<{ name: string }>).map((c) => c.name);
      assert.ok(columns.includes('instruction'), columns.join(','));
    } finally {
      dir.remove();
    }
  });
});
