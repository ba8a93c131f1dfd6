/**
 * `toolgate report usage` over a real staging day: the demo config, the example CRM (HTTP) and
 * HR (stdio) servers, a gateway writing a real SQLite audit log, three agents calling (STAGING in
 * test/support/staging-world.ts). "Granted" is checked against an independent source — the
 * gateway's own tools/list for the same principals at 11:00 Berlin — and "used" against the
 * calls made. The HTML page is rendered in Chromium.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { runReport } from '../src/cli/report.js';
import type { UsageGroup, UsageReport } from '../src/least-privilege/usage-report.js';
import { Session } from './support/policy-world.js';
import { driveStaging, PRINCIPALS, type StagingWorld, startStagingWorld } from './support/staging-world.js';
import { as } from './support/test-identity.js';

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;
/** Write and delete tools by name, as the demo's kind rules (the defaults) say — written out here, not taken from the code under test. */
const WRITE = /^(crm|hr)__(create|update|write|merge|add|complete|bulk)_/;
const DELETE = /^(crm__delete|hr__terminate)_/;

let world: StagingWorld;
/** Between the staging day and one later call (for --since). */
let mid: Date;
let report: UsageReport;
/** The tools the gateway lists to each principal, at 11:00 Berlin. */
const listed: Record<string, string[]> = {};

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runReport(
    args,
    (s) => (out += s),
    (s) => (err += s),
  );
  return { code, out, err };
}

async function usage(...args: string[]): Promise<UsageReport> {
  const r = await run('usage', '--config', world.configFile, '--json', ...args);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as UsageReport;
}

const group = (r: UsageReport, key: string): UsageGroup => {
  const g = r.groups.find((x) => x.key === key);
  assert.ok(g, `a group ${key} in ${r.groups.map((x) => x.key).join(', ')}`);
  return g;
};
const granted = (g: UsageGroup) =>
  g.tools
    .filter((t) => t.granted)
    .map((t) => t.tool)
    .sort();
const union = (...lists: string[][]) => [...new Set(lists.flat())].sort();

before(async () => {
  world = await startStagingWorld(['agents: { cleanup-bot: { tenant: acme } }']);
  for (const who of Object.keys(PRINCIPALS) as Array<keyof typeof PRINCIPALS>) listed[who] = await world.session(who).toolNames();
  await driveStaging(world);
  await new Promise((r) => setTimeout(r, 20)); // a sleep: time passes, so `mid` is strictly after the records so far…
  mid = new Date();
  await new Promise((r) => setTimeout(r, 20)); // …and strictly before the next one
  const late = await world.session('reportBot').call('crm__search_companies', { tenant: 'acme' });
  assert.equal(late.body.result?.isError, undefined, JSON.stringify(late.body));
  report = await usage();
});
after(async () => {
  await world?.close();
});

describe('report usage: granted vs used per agent', () => {
  test('sales-bot (contexts alice@acme and carol@globex): granted = union of what the gateway lists to both; used 4 (search_contacts, get_contact, write_contact, search_deals)', () => {
    const g = group(report, 'sales-bot');
    const expected = union(listed.alice!, listed.carol!);
    assert.ok(expected.length > 20, `the demo lists sales-bot many CRM tools, got ${expected.length}`);
    assert.deepEqual(granted(g), expected);
    assert.equal(g.contexts, 2);
    assert.deepEqual(g.all, { granted: expected.length, used: 4, share: 4 / expected.length });
    const writes = expected.filter((t) => WRITE.test(t)).length;
    assert.deepEqual(g.write, { granted: writes, used: 1, share: 1 / writes });
    assert.deepEqual(g.delete, { granted: 0, used: 0, share: null });
    const write = g.tools.find((t) => t.tool === 'crm__write_contact')!;
    assert.equal(write.allowed, 2);
    assert.equal(write.denied, 1, 'the write to globex under alice was denied');
    const del = g.tools.find((t) => t.tool === 'crm__delete_contact')!;
    assert.deepEqual([del.granted, del.allowed, del.denied], [false, 0, 1]);
    assert.ok(del.firstSeen && del.firstSeen === del.lastSeen);
  });

  test('the argument constraint and the time window of a granted write are named (crm-writes-own-tenant per tenant, crm-writes-business-hours)', () => {
    const write = group(report, 'sales-bot').tools.find((t) => t.tool === 'crm__write_contact')!;
    assert.deepEqual(
      write.constraints.arguments.map((c) => c.policy),
      ['crm-writes-own-tenant', 'crm-writes-own-tenant'],
    );
    assert.ok(
      write.constraints.arguments.some((c) => c.requires.includes('arguments.tenant == "acme"')),
      JSON.stringify(write.constraints),
    );
    assert.ok(
      write.constraints.arguments.some((c) => c.requires.includes('arguments.tenant == "globex"')),
      JSON.stringify(write.constraints),
    );
    // Present only because the time of day was left unknown: at any fixed hour this residual would have been decided.
    assert.deepEqual(
      write.constraints.time.map((c) => c.policy),
      ['crm-writes-business-hours'],
    );
    const read = group(report, 'sales-bot').tools.find((t) => t.tool === 'crm__search_contacts')!;
    assert.deepEqual(read.constraints, { arguments: [], time: [], session: [] });
  });

  test('granted does not depend on the hour: at 03:00 Berlin the gateway hides crm__write_contact from alice, the report still grants it', async () => {
    world.clock.set('2026-11-24T02:00:00Z');
    try {
      const now = await new Session(world.gateway.url, PRINCIPALS.alice).toolNames();
      assert.ok(!now.includes('crm__write_contact'), 'hidden outside business hours');
    } finally {
      world.clock.set('2026-11-24T10:00:00Z');
    }
    assert.ok(granted(group(report, 'sales-bot')).includes('crm__write_contact'));
  });

  test('hr-assistant used 2 of 4 HR reads; update_salary (denied, no hr.employee.write) is not granted; report-bot used 3 of 12 CRM reads', () => {
    const hr = group(report, 'hr-assistant');
    assert.deepEqual(granted(hr), listed.bob);
    assert.deepEqual(hr.all, { granted: listed.bob!.length, used: 2, share: 2 / listed.bob!.length });
    assert.deepEqual(
      hr.tools.find((t) => t.tool === 'hr__update_salary'),
      { ...hr.tools.find((t) => t.tool === 'hr__update_salary'), granted: false, allowed: 0, denied: 1 },
    );
    const rb = group(report, 'report-bot');
    assert.deepEqual(granted(rb), listed.reportBot);
    assert.equal(rb.all.used, 3);
    assert.equal(rb.write.granted + rb.delete.granted, 0, 'report-bot is read-only');
    assert.deepEqual(report.calls, { allowed: 14, denied: 3, expired: 0 });
  });

  test('cleanup-bot (policy.agents, no calls): reported idle, granted what the gateway would list it with every known scope, used 0', async () => {
    const g = group(report, 'cleanup-bot');
    assert.equal(g.idle, true);
    const scopes = 'crm.admin crm.read crm.write hr.employee.read hr.employee.write';
    const lists = await Promise.all(
      [as('cleanup-bot', { tenant: 'acme', scopes }), as('cleanup-bot', { tenant: 'acme', user: '(any user)', scopes })].map((h) => new Session(world.gateway.url, h).toolNames()),
    );
    const expected = union(...lists);
    assert.deepEqual(granted(g), expected);
    const deletes = expected.filter((t) => DELETE.test(t)).length;
    assert.ok(deletes >= 5, `cleanup-bot may delete (${deletes})`);
    assert.deepEqual(g.delete, { granted: deletes, used: 0, share: 0 });
  });

  test('total sums the groups: (agent, tool) pairs granted and used', () => {
    assert.equal(
      report.total.all.granted,
      report.groups.reduce((n, g) => n + g.all.granted, 0),
    );
    assert.equal(report.total.all.used, 4 + 2 + 3);
  });
});

describe('report usage: ranges and groupings', () => {
  test('--since (after the staging day) counts only the later call: report-bot 1 used, sales-bot absent (not in policy.agents)', async () => {
    const r = await usage('--since', mid.toISOString());
    assert.deepEqual(r.calls, { allowed: 1, denied: 0, expired: 0 });
    assert.equal(r.range.since, mid.toISOString());
    assert.equal(group(r, 'report-bot').all.used, 1);
    assert.ok(!r.groups.some((g) => g.key === 'sales-bot'));
    assert.equal(group(r, 'cleanup-bot').idle, true);
  });

  test('--until (before the later call) leaves it out: report-bot used 2', async () => {
    const r = await usage('--until', mid.toISOString());
    assert.equal(group(r, 'report-bot').all.used, 2);
  });

  test('--by user: alice used 3 (search_contacts, get_contact, write_contact) of what she is listed; calls without a user under (none)', async () => {
    const r = await usage('--by', 'user');
    assert.deepEqual(
      r.groups.map((g) => g.key),
      ['(none)', 'alice', 'bob', 'carol'],
    );
    const alice = group(r, 'alice');
    assert.deepEqual(granted(alice), listed.alice);
    assert.equal(alice.all.used, 3);
    assert.deepEqual(group(r, '(none)').agents, ['report-bot']);
  });

  test('--by upstream: crm granted = union of every crm tool listed to anyone seen; hr likewise', async () => {
    const r = await usage('--by', 'upstream');
    assert.deepEqual(
      r.groups.map((g) => g.key),
      ['crm', 'hr'],
    );
    const all = union(listed.alice!, listed.carol!, listed.bob!, listed.reportBot!);
    assert.deepEqual(
      granted(group(r, 'crm')),
      all.filter((t) => t.startsWith('crm__')),
    );
    assert.deepEqual(
      granted(group(r, 'hr')),
      all.filter((t) => t.startsWith('hr__')),
    );
    assert.equal(group(r, 'crm').all.used, 6, 'search_contacts, get_contact, write_contact, search_deals, get_pipeline_summary, search_companies');
  });
});

describe('report usage: the CLI', () => {
  test('toolgate report usage --config (spawned): the aligned table shows sales-bot 2 contexts, granted, used 4, share, write used 1/N', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', MAIN, 'report', 'usage', '--config', world.configFile], {
      cwd: new URL('..', import.meta.url).pathname,
    });
    const g = group(report, 'sales-bot');
    const row = new RegExp(`^sales-bot\\s+2\\s+${g.all.granted}\\s+4\\s+${Math.round((4 / g.all.granted) * 100)}%\\s+1/${g.write.granted} \\d+%\\s+0/0 -$`, 'm');
    assert.match(stdout, row);
    assert.match(stdout, /^ {6}arguments crm-writes-own-tenant: \(arguments has tenant\) && \(arguments\.tenant == "acme"\)$/m);
    assert.match(stdout, /^cleanup-bot \(no calls\)/m);
  });

  const errors: Array<{ title: string; args: () => string[]; message: RegExp }> = [
    {
      title: 'unknown --by value "team"',
      args: () => ['usage', '--config', world.configFile, '--by', 'team'],
      message: /--by expects one of agent, user, tenant, upstream, got "team"/,
    },
    { title: 'bad --since "yesterday"', args: () => ['usage', '--config', world.configFile, '--since', 'yesterday'], message: /--since expects a time like 2026-11-24/ },
    {
      title: '--since after --until',
      args: () => ['usage', '--config', world.configFile, '--since', '2026-11-25', '--until', '2026-11-24'],
      message: /--since must be before --until/,
    },
    {
      title: 'no audit database at --db',
      args: () => ['usage', '--config', world.configFile, '--db', join(world.dir, 'nothing-here.db')],
      message: /no audit database at .*nothing-here\.db/,
    },
    { title: 'no --config', args: () => ['usage', '--db', join(world.dir, 'audit.db')], message: /needs --config FILE/ },
    { title: 'unknown report "cost"', args: () => ['cost', '--config', world.configFile], message: /unknown report "cost"/ },
  ];
  for (const e of errors) {
    test(`exit 2 on ${e.title}`, async () => {
      const r = await run(...e.args());
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, e.message);
      assert.equal(r.out, '');
    });
  }

  test('exit 2 on a config without a policy: section, saying the granted side needs it', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'toolgate-nopolicy-')), 'toolgate.yaml');
    writeFileSync(file, 'upstreams:\n  - id: crm\n    url: http://127.0.0.1:9/mcp\n');
    const r = await run('usage', '--config', file);
    assert.equal(r.code, 2);
    assert.match(r.err, /toolgate\.yaml has no policy: section, so nothing says what agents are granted/);
  });
});

describe('report usage --html: one self-contained page, rendered in Chromium', () => {
  test('the chart has granted and used bars per agent (all/write/delete), the tables the tools; no request leaves the page', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'toolgate-usage-html-'));
    const file = join(dir, 'usage.html');
    const r = await run('usage', '--config', world.configFile, '--html', file);
    assert.equal(r.code, 0, r.err);
    assert.ok(existsSync(file));
    const html = readFileSync(file, 'utf8');
    assert.doesNotMatch(html, /<script|<link|src="http|href="http/, 'no script, no external asset');
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const requests: string[] = [];
      page.on('request', (req) => requests.push(req.url()));
      await page.goto(pathToFileURL(file).href);
      const bars = await page.$$eval('svg rect.bar-granted, svg rect.bar-used', (rects) =>
        rects.map((r) => ({
          cls: r.getAttribute('class'),
          group: r.getAttribute('data-group'),
          kind: r.getAttribute('data-kind'),
          count: Number(r.getAttribute('data-count')),
          width: (r as SVGRectElement).getBBox().width,
        })),
      );
      assert.equal(bars.length, report.groups.length * 3 * 2, 'granted and used bar for all, write, delete of every agent');
      const sales = group(report, 'sales-bot');
      const salesAll = bars.filter((b) => b.group === 'sales-bot' && b.kind === 'all');
      assert.deepEqual(
        salesAll.map((b) => [b.cls, b.count]),
        [
          ['bar-granted', sales.all.granted],
          ['bar-used', 4],
        ],
      );
      assert.ok(salesAll[0]!.width > salesAll[1]!.width && salesAll[1]!.width > 0, 'the used bar is drawn shorter than the granted one');
      // biome-ignore lint/performance/useDomNodeTextContent: Playwright's page.innerText(selector), not the DOM property; the test reads the rendered text, which textContent would not give
      const text = await page.innerText('body');
      assert.match(text, /sales-bot/);
      assert.match(text, /crm__write_contact/);
      assert.match(text, /crm-writes-own-tenant/);
      assert.ok(requests.length > 0 && requests.every((u) => u.startsWith('file:')), `only the file itself was loaded: ${requests.join(', ')}`);
      await page.screenshot({ path: join(dir, 'usage.png'), fullPage: false });
      assert.ok(existsSync(join(dir, 'usage.png')));
      process.stderr.write(`# screenshot: ${join(dir, 'usage.png')}\n`);
    } finally {
      await browser.close();
    }
  });
});
