/**
 * A real Prometheus scrapes the gateway's /metrics (with the admin token) while an SDK client
 * makes allowed and denied calls against the example policies; the values are read back through
 * Prometheus's own query API.
 */
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ADMIN_TOKEN } from './support/admin-status.js';
import { type PolicyWorld, startPolicyWorld } from './support/policy-world.js';
import { type PrometheusHandle, startPrometheus } from './support/prometheus.js';
import { as } from './support/test-identity.js';
import { waitFor } from './support/wait-for.js';

/** 19:30 in Berlin: sales-bot may read the CRM, but every write is forbidden (crm-writes-business-hours). */
const EVENING = '2026-11-24T18:30:00Z';
const DENIED = 7;
const ALLOWED = 5;
const contact = { tenant: 'acme', first_name: 'Ada', last_name: 'Lovelace', email: 'ada@acme.example' };

// Fails, not skips, without the binary: .ci/run installs it.
describe('Prometheus scraping the gateway during traffic', () => {
  let world: PolicyWorld;
  let prometheus: PrometheusHandle;
  let client: Client;
  let deniedAnswers = 0;

  before(async () => {
    world = await startPolicyWorld({ hr: false });
    world.clock.set(EVENING);
    prometheus = await startPrometheus({ host: `127.0.0.1:${world.gateway.port}`, metricsPath: '/metrics', bearer: ADMIN_TOKEN });
    client = new Client({ name: 'metrics-test', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(world.gateway.url), { requestInit: { headers: as('sales-bot', { user: 'alice', tenant: 'acme', scopes: 'crm.read crm.write' }) } }),
    );
    // Part of the traffic before Prometheus's first scrape of it, part after.
    const calls = async (n: number, allowed: boolean): Promise<void> => {
      for (let i = 0; i < n; i++) {
        if (allowed) {
          const r = await client.callTool({ name: 'crm__search_contacts', arguments: { tenant: 'acme', query: 'a' } });
          assert.notEqual(r.isError, true, `search_contacts was allowed: ${JSON.stringify(r)}`);
        } else {
          await client.callTool({ name: 'crm__write_contact', arguments: contact }).then(
            (r) => assert.fail(`write_contact at 19:30 was denied, but answered ${JSON.stringify(r)}`),
            () => deniedAnswers++,
          );
        }
      }
    };
    await calls(3, false);
    await calls(2, true);
    await waitFor(async () => (await prometheus.value('sum(toolgate_calls_total)')) !== undefined, { what: 'a first scrape of the gateway', timeoutMs: 15_000, intervalMs: 200 });
    await calls(DENIED - 3, false);
    await calls(ALLOWED - 2, true);
  });

  after(async () => {
    await client?.close();
    await prometheus?.stop();
    await world?.close();
  });

  test('Prometheus scrapes /metrics with the admin token and finds the target up', async () => {
    const target = await waitFor(
      async () => {
        const t = await prometheus.target();
        return t?.health === 'up' && t;
      },
      { what: 'the toolgate target up in Prometheus', timeoutMs: 15_000, intervalMs: 200 },
    );
    assert.equal(target.lastError, '');
  });

  test(`the denied calls of write_contact counted by Prometheus equal the ${DENIED} the client made`, async () => {
    assert.equal(deniedAnswers, DENIED);
    const q = 'sum(toolgate_calls_total{upstream="crm",tool="write_contact",verdict="deny",outcome="refused"})';
    const seen = await waitFor(async () => (await prometheus.value(q)) === DENIED && DENIED, { what: `${q} = ${DENIED}`, timeoutMs: 15_000, intervalMs: 200 });
    assert.equal(seen, DENIED);
    // Nothing of write_contact was allowed, and the allowed reads are counted as such.
    assert.equal(await prometheus.value('sum(toolgate_calls_total{tool="write_contact",verdict="allow"})'), 0);
    const reads = await waitFor(async () => (await prometheus.value('sum(toolgate_calls_total{tool="search_contacts",verdict="allow",outcome="ok"})')) === ALLOWED && ALLOWED, {
      what: `${ALLOWED} allowed search_contacts calls`,
      timeoutMs: 15_000,
      intervalMs: 200,
    });
    assert.equal(reads, ALLOWED);
  });

  test('the rate of denied write_contact calls is above zero while they happen', async () => {
    const rate = await prometheus.value('sum(rate(toolgate_calls_total{tool="write_contact",verdict="deny"}[1m]))');
    assert.ok(rate !== undefined && rate > 0, `rate of denials: ${rate}`);
  });

  test('the p99 of the authorize step, and of the whole tools/call operation, is a number above zero', async () => {
    const p99 = await prometheus.value('histogram_quantile(0.99, sum by (le) (toolgate_stage_duration_seconds_bucket{stage="authorize"}))');
    assert.ok(p99 !== undefined && Number.isFinite(p99) && p99 > 0, `p99 of authorize: ${p99}`);
    const count = await prometheus.value('sum(toolgate_stage_duration_seconds_count{stage="authorize"})');
    assert.equal(count, DENIED + ALLOWED, 'every call that reached policy was timed once');
    const op = await prometheus.value('histogram_quantile(0.99, sum by (le) (mcp_server_operation_duration_seconds_bucket{mcp_method_name="tools/call"}))');
    assert.ok(op !== undefined && Number.isFinite(op) && op > 0, `p99 of tools/call: ${op}`);
  });

  test('a refused policy reload is counted, and Prometheus sees it', async () => {
    assert.equal(await prometheus.value('sum(toolgate_policy_reloads_total)'), undefined, 'no reload yet');
    // Not Cedar: the watcher reloads, the reload is refused, the previous set stays in force.
    appendFileSync(join(world.policyDir, 'crm.cedar'), '\npermit (principal, action, resource) unless {;\n');
    const q = 'toolgate_policy_reloads_total{result="refused"}';
    const refused = await waitFor(async () => (await prometheus.value(q)) === 1 && 1, { what: `${q} = 1`, timeoutMs: 15_000, intervalMs: 200 });
    assert.equal(refused, 1);
  });

  test('the upstream is up and the open session is counted', async () => {
    assert.equal(await prometheus.value('toolgate_upstream_up{upstream="crm"}'), 1);
    const sessions = await prometheus.value('toolgate_sessions_open');
    assert.ok(sessions !== undefined && sessions >= 1, `sessions open: ${sessions}`);
  });
});
