import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type CrmServerHandle, startCrmServer } from '../examples/crm/server.js';
import { trustedKeys } from '../src/audit/checkpoint.js';
import { SqliteAuditStore } from '../src/audit/sqlite-store.js';
import { verifyStore } from '../src/audit/verify-store.js';
import { tempDir } from './audit-support.js';
import { waitFor } from './support/wait-for.js';

/**
 * The gateway as its own process (`toolgate serve`, from source under tsx), killed with SIGKILL
 * while 8 clients keep calling through it. Every call a client saw succeed must have its
 * decision record (the record is durable before the call is forwarded); the next run seals the
 * dead run's chain, and the whole file verifies.
 */
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
let crm: CrmServerHandle;
const home = tempDir();

before(async () => {
  crm = await startCrmServer({ port: 0 });
});
after(async () => {
  await crm?.close();
  home.remove();
});

function serve(config: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--config', config], {
    env: { ...process.env, TOOLGATE_HOME: home.path },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) resolve({ child, url: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${err}`)));
  });
}

test('SIGKILL under load: every call that succeeded has its decision record; the restart seals the dead chain; everything verifies', { timeout: 90_000 }, async () => {
  const config = join(home.path, 'toolgate.yaml');
  writeFileSync(config, `listener:\n  port: 0\nupstreams:\n  - id: crm\n    url: ${crm.url}\n`);
  const first = await serve(config);
  const succeeded: string[] = [];
  let failed = 0;
  let stop = false;
  const clients = await Promise.all(
    Array.from({ length: 8 }, async () => {
      const c = new Client({ name: 'load', version: '1' });
      await c.connect(new StreamableHTTPClientTransport(new URL(first.url)));
      return c;
    }),
  );
  const workers = clients.map(async (client, w) => {
    for (let i = 0; !stop; i++) {
      const tag = `crash-${w}-${i}`;
      try {
        const r = await client.callTool({ name: 'crm__add_note', arguments: { tenant: 'acme', record_id: 'ct_1001', text: tag } });
        if (r.isError !== true) succeeded.push(tag);
      } catch {
        failed += 1;
        return; // the gateway is gone
      }
    }
  });
  await waitFor(() => succeeded.length >= 150, { what: '150 successful calls before the kill', timeoutMs: 60_000 });
  first.child.kill('SIGKILL');
  stop = true;
  await Promise.all(workers);
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  assert.ok(failed > 0, 'the kill happened while calls were in flight');

  // The next run seals the dead chain at start, and seals its own on a clean stop.
  const second = await serve(config);
  const exited = new Promise((r) => second.child.once('exit', r));
  // serve installs its SIGTERM handler just after the listener logs its address, before it can answer a request.
  await waitFor(async () => (await fetch(second.url.replace(/\/mcp$/, '/healthz'))).ok, { what: 'the second gateway to answer /healthz' });
  second.child.kill('SIGTERM');
  await exited;

  const store = new SqliteAuditStore(join(home.path, 'audit.db'), { readonly: true });
  await store.open();
  try {
    const decisions = await store.query({ kind: 'decision', limit: 100_000 });
    const recorded = new Set(decisions.map((d) => JSON.parse(d.body!).args.text as string));
    const missing = succeeded.filter((tag) => !recorded.has(tag));
    assert.deepEqual(missing, [], `${missing.length} of ${succeeded.length} successful calls have no decision record`);
    const chains = await store.chains();
    assert.equal(chains.length, 2);
    assert.ok(
      chains.every((c) => c.sealedAt),
      `both chains sealed: ${JSON.stringify(chains)}`,
    );
    const seals = await store.query({ kind: 'chain.seal', limit: 10 });
    const recovered = seals.find((s) => s.chain === chains[0]!.chain)!;
    assert.match(JSON.parse(recovered.body!).detail.reason, /recovered/);
    const report = await verifyStore(store, trustedKeys(await store.publicKeys()));
    assert.equal(report.ok, true, JSON.stringify(report.finding));
    assert.ok(report.chains.every((c) => c.sealed));
  } finally {
    await store.close();
  }
});
