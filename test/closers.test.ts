/**
 * The gateway's stack of closers: what was opened is closed in reverse order, once, and one
 * closer failing does not leave the rest open.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Closers } from '../src/closers.js';

test('closes in reverse order of opening, each once, even when closed twice', async () => {
  const closed: string[] = [];
  const c = new Closers();
  c.push('audit log', () => void closed.push('audit log'));
  c.push('upstreams', async () => void closed.push('upstreams'));
  c.push('listener', () => void closed.push('listener'));
  await Promise.all([c.closeAll(), c.closeAll()]);
  await c.closeAll();
  assert.deepEqual(closed, ['listener', 'upstreams', 'audit log']);
});

test('a failing closer does not stop the others; the first failure is reported after all ran', async () => {
  const closed: string[] = [];
  const c = new Closers();
  c.push('audit log', () => void closed.push('audit log'));
  c.push('upstreams', () => {
    throw new Error('stuck');
  });
  c.push('policy watchers', async () => {
    throw new Error('already gone');
  });
  await assert.rejects(c.closeAll(), /closing policy watchers: already gone/);
  assert.deepEqual(closed, ['audit log']);
});
