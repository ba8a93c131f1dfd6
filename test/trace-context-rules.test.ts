/**
 * The rules of trace context as toolgate reads it: W3C traceparent, tracestate and baggage
 * validation, the instruction's allow-list and value rules, which source wins in each era, and
 * the `trace:` config section with its messages.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../src/config/errors.js';
import { parseConfig } from '../src/config/load.js';
import { formatBaggage, isTraceparent, isTracestate, newTraceContextDrops, parseBaggage, readTraceContext } from '../src/protocol/trace-context.js';

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const TP2 = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';
const KEYS = ['instruction.id', 'task.id', 'job.id'];

describe('W3C values', () => {
  test('traceparent: version 00, lower-case hex of the right lengths, trace and parent ids not all zero', () => {
    assert.ok(isTraceparent(TP));
    for (const bad of [
      '',
      TP.toUpperCase(),
      `${TP}-extra`,
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01',
      `${TP}, ${TP2}`,
    ]) {
      assert.equal(isTraceparent(bad), false, `accepted ${JSON.stringify(bad)}`);
    }
  });

  test('tracestate: at most 32 members and 512 characters, each key=value', () => {
    const members = (n: number) => Array.from({ length: n }, (_, i) => `k${i}=v`).join(',');
    assert.ok(isTracestate(members(32)));
    assert.equal(isTracestate(members(33)), false, '33 members');
    assert.ok(isTracestate(`a=${'x'.repeat(255)},b=${'y'.repeat(250)}`));
    assert.equal(isTracestate(`a=${'x'.repeat(255)},b=${'y'.repeat(255)}`), false, '513 characters');
    assert.ok(isTracestate('rojo=00f067aa0ba902b7, congo@t61=t61rcWkgMzE'));
    for (const bad of ['novalue', 'UPPER=1', 'k=a=b', '=v']) assert.equal(isTracestate(bad), false, `accepted ${bad}`);
  });

  test('baggage: key=value list, percent-decoded, properties ignored; malformed or over 8192 bytes is undefined', () => {
    assert.deepEqual(Object.fromEntries(parseBaggage('instruction.id=ins%2042 , task.id=t;prop=1;flag')!), { 'instruction.id': 'ins 42', 'task.id': 't' });
    for (const bad of ['noequals', 'k=v,,k2=v2', 'k=%zz', 'k=a b', 'k="quoted"', 'bad key=v', `k=${'x'.repeat(8191)}`]) {
      assert.equal(parseBaggage(bad), undefined, `accepted ${bad.slice(0, 40)}`);
    }
    assert.equal(formatBaggage({ 'instruction.id': 'ins 42', 'task.id': 'a,b;c=d%' }), 'instruction.id=ins%2042,task.id=a%2Cb%3Bc%3Dd%25');
    assert.deepEqual(Object.fromEntries(parseBaggage(formatBaggage({ a: 'é,;=%' }))!), { a: 'é,;=%' }, 'what is passed on reads back the same');
  });
});

describe('reading one request', () => {
  test('2026-07-28: _meta wins over headers; 2025: headers win over _meta; tracestate goes with its own traceparent', () => {
    const headers = { traceparent: TP, tracestate: 'h=1', baggage: 'instruction.id=from-header' };
    const meta = { traceparent: TP2, baggage: 'instruction.id=from-meta' };
    const drops = newTraceContextDrops();
    assert.deepEqual(readTraceContext({ headers, meta, preferMeta: true }, KEYS, drops), { traceparent: TP2, instruction: { 'instruction.id': 'from-meta' } });
    assert.deepEqual(readTraceContext({ headers, meta, preferMeta: false }, KEYS, drops), { traceparent: TP, tracestate: 'h=1', instruction: { 'instruction.id': 'from-header' } });
    assert.deepEqual(
      readTraceContext({ headers: {}, meta, preferMeta: false }, KEYS, drops),
      { traceparent: TP2, instruction: { 'instruction.id': 'from-meta' } },
      'the other source when the preferred has none',
    );
    assert.deepEqual(drops, newTraceContextDrops());
  });

  test('an allow-listed _meta key is taken before the same key in baggage; other keys are never the instruction', () => {
    const drops = newTraceContextDrops();
    const ctx = readTraceContext({ meta: { 'task.id': 'meta-task', 'other.id': 'x', baggage: 'task.id=bag-task,job.id=j1,other.id=y' }, preferMeta: true }, KEYS, drops);
    assert.deepEqual(ctx, { instruction: { 'task.id': 'meta-task', 'job.id': 'j1' } });
    assert.deepEqual(readTraceContext({ meta: { baggage: 'job.id=j1' }, preferMeta: true }, [], drops), {}, 'no keys configured: no instruction');
  });

  test('what is dropped is counted per field; a bad value never passes', () => {
    const drops = newTraceContextDrops();
    const ctx = readTraceContext(
      {
        headers: { traceparent: 'garbage', baggage: 'k=%zz' },
        meta: { 'instruction.id': 'line\nbreak', 'task.id': 'x'.repeat(257), 'job.id': 42 },
        preferMeta: false,
      },
      KEYS,
      drops,
    );
    assert.deepEqual(ctx, {});
    assert.deepEqual(drops, { traceparent: 1, tracestate: 0, baggage: 1, instruction: 3 });
    const withState = readTraceContext({ meta: { traceparent: TP, tracestate: 'x'.repeat(600) }, preferMeta: true }, KEYS, drops);
    assert.deepEqual(withState, { traceparent: TP });
    assert.equal(drops.tracestate, 1);
    assert.deepEqual(
      readTraceContext({ meta: { 'instruction.id': 'x'.repeat(256) }, preferMeta: true }, KEYS, drops).instruction,
      { 'instruction.id': 'x'.repeat(256) },
      '256 characters pass',
    );
  });
});

describe('the trace: section', () => {
  const UPSTREAMS = 'upstreams:\n  - id: crm\n    url: http://127.0.0.1:7421/mcp\n';
  const message = (text: string): string => {
    try {
      parseConfig(text, 'config.yaml', {});
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error.message;
    }
    assert.fail('the config was accepted');
  };

  test('absent: no section (the gateway uses instruction.id, task.id, job.id); given: the keys as listed', () => {
    assert.equal(parseConfig(UPSTREAMS, 'config.yaml', {}).trace, undefined);
    assert.deepEqual(parseConfig(`trace:\n  instruction_keys: [ticket.id]\n${UPSTREAMS}`, 'config.yaml', {}).trace, { instructionKeys: ['ticket.id'] });
  });

  test('a key that is not a baggage key, a repeated key, an unknown setting: each named', () => {
    assert.match(message(`trace:\n  instruction_keys: ["has space"]\n${UPSTREAMS}`), /trace\.instruction_keys\[0\]: expected a baggage key .*got "has space"/);
    assert.match(message(`trace:\n  instruction_keys: [a, a]\n${UPSTREAMS}`), /trace\.instruction_keys.*expected each instruction key once/);
    assert.match(message(`trace:\n  keys: [a]\n${UPSTREAMS}`), /trace.*keys/);
  });
});
