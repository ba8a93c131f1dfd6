/** The tests' one way to wait for something: it returns as soon as it can, and fails saying what never happened. */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from './support/wait-for.js';

test('returns the first truthy value of a sync or async check', async () => {
  let checks = 0;
  assert.equal(await waitFor(() => (++checks >= 3 ? `after ${checks}` : undefined), { what: 'three checks', intervalMs: 1 }), 'after 3');
  assert.deepEqual(await waitFor(async () => ({ ready: true }), { what: 'an async value' }), { ready: true });
});

test('a check that throws counts as not yet', async () => {
  let checks = 0;
  const value = await waitFor(
    () => {
      if (++checks < 3) throw new Error('connection refused');
      return checks;
    },
    { what: 'a server to start', intervalMs: 1 },
  );
  assert.equal(value, 3);
});

test('on timeout the error names what it waited for and the last value seen', async () => {
  let n = 0;
  await assert.rejects(
    waitFor(
      () => {
        n++;
        return 0;
      },
      { what: 'the count to move', timeoutMs: 60, intervalMs: 5 },
    ),
    (err: Error) => {
      assert.match(err.message, /^timed out after 60 ms waiting for the count to move; last value: 0$/);
      return true;
    },
  );
  assert.ok(n > 1, 'it checked more than once');
});

test('on timeout after errors the message carries the last error', async () => {
  await assert.rejects(
    waitFor(() => Promise.reject(new Error('ECONNREFUSED')), { what: '/healthz', timeoutMs: 40, intervalMs: 5 }),
    /waiting for \/healthz; last error: ECONNREFUSED$/,
  );
});

test('a check that never settles does not hang the wait', async () => {
  const started = Date.now();
  await assert.rejects(
    waitFor(() => new Promise<boolean>(() => undefined), { what: 'a hung check', timeoutMs: 50 }),
    /waiting for a hung check; the last check was still pending/,
  );
  assert.ok(Date.now() - started < 1000);
});
