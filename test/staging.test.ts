/**
 * `npm run staging` end to end, at a third of its traffic: day 1 through the gateway, suggest,
 * the suggestion's own test table, day 2 with the suggestion as policy.shadow, and the claim
 * checked by the script itself — every kind of call day 1 made agreed, exactly the tools unused on
 * day 1 would break, nothing would widen. Also its refusal of a --home that is not its own.
 */

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runStaging } from '../scripts/staging.js';

test("staging at scale 0.3: suggestion allows day 1's calls, denies the unused tools, prints the figures; exit 0", async () => {
  const home = mkdtempSync(join(tmpdir(), 'toolgate-staging-'));
  let out = '';
  try {
    const code = await runStaging(['--home', home, '--scale', '0.3'], (s) => (out += s));
    assert.equal(code, 0, out);
    assert.match(out, /as claimed: the suggestion agreed with the enforced set on \d+ of \d+ day-2 decisions and would deny exactly the 5 tools unused on day 1/);
    assert.match(out, /(\d+) of \1 passed/, 'the generated tests.yaml passed against the suggestion');
    assert.match(out, /enforced denied, shadow would allow \(would widen\): 0 calls/);
    assert.match(out, /all agents: \d+ of \d+ granted \(agent × tool\) used = \d+%; write\/delete surface \d+ → \d+ \(\d+% removed\)/);
    assert.ok(existsSync(join(home, 'suggested-policies', 'agent-sales-bot.cedar')));
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('staging refuses a --home that holds something else (exit 2), and leaves it', async () => {
  const home = mkdtempSync(join(tmpdir(), 'toolgate-staging-'));
  writeFileSync(join(home, 'notes.txt'), 'mine');
  try {
    assert.equal(await runStaging(['--home', home]), 2);
    assert.ok(existsSync(join(home, 'notes.txt')));
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
