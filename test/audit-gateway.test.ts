import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import Database from 'better-sqlite3';
import { type CrmServerHandle, startCrmServer } from '../examples/crm/server.js';
import { exportBundle, verifyBundle } from '../src/audit/bundle.js';
import { trustedKeys } from '../src/audit/checkpoint.js';
import { SqliteAuditStore } from '../src/audit/sqlite-store.js';
import { verifyStore } from '../src/audit/verify-store.js';
import { tempDir } from './audit-support.js';
import { ADMIN_YAML, adminStatus } from './support/admin-status.js';
import { gatewayWith } from './support/gateway.js';

/**
 * The audit log inside a running gateway, against the example CRM over Streamable HTTP and the
 * SDK v1 client: what a call leaves in the SQLite file, what never gets there (secrets), and
 * what happens when the store fails (calls refused, nothing forwarded, /readyz says why).
 */
const GITHUB_TOKEN = 'ghp_' + 'R8x2Kq9LmZ4vB7nT1pW6yC3dF0gH5jS2aE9u';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.' + 'eyJzdWIiOiJhbGljZSIsInNjb3BlIjoiY3JtLndyaXRlIn0.' + 'c2lnbmF0dXJlLXN0YW5kLWluLWZvci10ZXN0aW5n';
const COMMITTED = 'Dana asked for the Q3 price list';

let crm: CrmServerHandle;
before(async () => {
  crm = await startCrmServer({ port: 0 });
});
after(async () => {
  await crm?.close();
});

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: 'audit-test', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('audit in the gateway (default SQLite store)', () => {
  test('a call leaves a decision and a linked outcome (status, size, hash, no content); session start; the log verifies', async () => {
    const home = tempDir();
    try {
      const gw = await gatewayWith(`upstreams:\n  - id: crm\n    url: ${crm.url}\n${ADMIN_YAML}`, { home: home.path });
      const client = await connect(gw.url);
      const result = await client.callTool({ name: 'crm__get_contact', arguments: { tenant: 'acme', contact_id: 'ct_1001' } });
      assert.notEqual(result.isError, true);
      const ready = await adminStatus<{ audit: { state: string; store: string } }>(gw.url);
      assert.deepEqual([ready.audit.state, ready.audit.store], ['ready', 'sqlite']);
      await client.close();
      await gw.close();

      const store = new SqliteAuditStore(join(home.path, 'audit.db'), { readonly: true });
      await store.open();
      const rows = await store.query({ limit: 100 });
      const kinds = rows.map((r) => r.kind);
      for (const k of ['chain.start', 'session.start', 'decision', 'outcome', 'chain.seal']) assert.ok(kinds.includes(k), `missing ${k} in ${kinds.join(', ')}`);
      const decision = rows.find((r) => r.kind === 'decision')!;
      const outcome = JSON.parse(rows.find((r) => r.kind === 'outcome')!.body!);
      const body = JSON.parse(decision.body!);
      assert.equal(body.tool, 'crm__get_contact');
      assert.equal(body.verdict, 'allow');
      assert.deepEqual(body.args, { tenant: 'acme', contact_id: 'ct_1001' });
      assert.match(body.at, /Z$/);
      assert.deepEqual(outcome.links.decision, { chain: decision.chain, position: decision.seq, hash: decision.hash });
      assert.equal(outcome.outcome.status, 'ok');
      assert.ok(outcome.outcome.resultBytes > 0);
      assert.match(outcome.outcome.resultHash, /^[0-9a-f]{64}$/);
      assert.ok(!rows.some((r) => r.body?.includes('Whitfield')), 'the result content (contact name) must not be recorded');
      const report = await verifyStore(store, trustedKeys(await store.publicKeys()));
      assert.equal(report.ok, true, JSON.stringify(report.finding));
      await store.close();
    } finally {
      home.remove();
    }
  });

  test('secrets in arguments (a GitHub token, a JWT) never reach the database files or an export; a committed value stays out of the record', async () => {
    const home = tempDir();
    const bundle = tempDir();
    try {
      const yaml = `upstreams:\n  - id: crm\n    url: ${crm.url}\naudit:\n  redaction:\n    tools:\n      crm__add_note: { author: commit }\n`;
      const gw = await gatewayWith(yaml, { home: home.path });
      const client = await connect(gw.url);
      await client.callTool({
        name: 'crm__add_note',
        arguments: { tenant: 'acme', record_id: 'ct_1001', text: `use ${GITHUB_TOKEN} and Bearer ${JWT} for the export`, author: COMMITTED },
      });
      await client.close();
      await gw.close();

      const store = new SqliteAuditStore(join(home.path, 'audit.db'), { readonly: true });
      await store.open();
      const decision = (await store.query({ kind: 'decision' }))[0]!;
      const args = JSON.parse(decision.body!).args;
      assert.equal(args.text.$redacted, 'secret', 'the text with credentials in it is dropped');
      assert.match(args.author.$commit, /^[0-9a-f]{64}$/);
      await exportBundle(store, bundle.path);
      await store.close();

      for (const file of [...filesUnder(home.path), ...filesUnder(bundle.path)]) {
        const bytes = readFileSync(file);
        for (const secret of [GITHUB_TOKEN, JWT, JWT.split('.')[1]!]) assert.equal(bytes.includes(secret), false, `${secret.slice(0, 8)}… found in ${file}`);
      }
      // The committed value lives only in the payloads table, never in a record or the bundle.
      assert.ok(filesUnder(bundle.path).every((f) => !readFileSync(f).includes(COMMITTED)));
      assert.equal(decision.body!.includes(COMMITTED), false);
      assert.equal((await verifyBundle(bundle.path)).ok, true);
    } finally {
      home.remove();
      bundle.remove();
    }
  });

  test('the store fails (records table dropped under the running gateway): calls are refused with a clear error, nothing reaches the CRM, /readyz answers 503 and /admin/status names the audit store', async () => {
    const home = tempDir();
    try {
      const gw = await gatewayWith(`upstreams:\n  - id: crm\n    url: ${crm.url}\n${ADMIN_YAML}`, { home: home.path });
      const client = await connect(gw.url);
      await client.callTool({ name: 'crm__get_contact', arguments: { tenant: 'acme', contact_id: 'ct_1001' } });
      const vandal = new Database(join(home.path, 'audit.db'));
      vandal.exec('DROP TABLE records');
      vandal.close();
      const before = crm.receivedToolCalls().length;
      await assert.rejects(client.callTool({ name: 'crm__add_note', arguments: { tenant: 'acme', record_id: 'ct_1001', text: 'must not arrive' } }), (err: Error) => {
        assert.match(err.message, /could not record this call in its audit log, so it was not forwarded/);
        return true;
      });
      assert.equal(crm.receivedToolCalls().length, before, 'the refused call reached the CRM');
      const res = await fetch(gw.url.replace('/mcp', '/readyz'));
      assert.equal(res.status, 503);
      await res.text();
      const body = await adminStatus<{ audit: { state: string; lastError: string } }>(gw.url);
      assert.equal(body.audit.state, 'failing');
      assert.match(body.audit.lastError, /no such table: records/);
      await client.close();
      await gw.close();
    } finally {
      home.remove();
    }
  });
});
