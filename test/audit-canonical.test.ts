/**
 * The audit log's RFC 8785 serializer (src/audit/hashing.ts) against `canonicalize@4`, the
 * reference it replaced on the hot path: same bytes for every value tried, same errors.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import canonicalize from 'canonicalize';
import { canonicalBytes } from '../src/audit/hashing.js';

/** A deterministic pseudo-random source, so a failure can be replayed from its seed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const STRINGS = [
  '',
  'a',
  'é',
  '€',
  '😀',
  'line\nbreak',
  'tab\t',
  'quote"',
  'back\\slash',
  '\u0000',
  '\u001f',
  '\u007f',
  '\u2028',
  '\ufeff',
  'ÿ',
  'Z',
  'aa',
  'A',
  '1',
  '$',
  '_',
  'ü',
  '\ud83d\ude00',
];
const NUMBERS = [0, -0, 1, -1, 0.1, 1e21, 1e-7, 123456789.125, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, -1.5e300, 333333333.3333333, 2 ** 53 + 2];

function value(next: () => number, depth: number): unknown {
  const pick = <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)]!;
  const r = next();
  if (depth > 4 || r < 0.35) return pick<unknown>([...STRINGS, ...NUMBERS, true, false, null]);
  if (r < 0.5) return Array.from({ length: Math.floor(next() * 5) }, () => (next() < 0.1 ? undefined : value(next, depth + 1)));
  if (r < 0.55) return new Date(Math.floor(next() * 4e12));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 7); i > 0; i--) o[pick(STRINGS) + pick(['', 'x', 'b', 'B'])] = next() < 0.1 ? undefined : value(next, depth + 1);
  return o;
}

describe('audit canonical JSON (RFC 8785)', () => {
  test('2,000 generated values (nested objects, arrays with undefined, dates, unicode keys, edge numbers) serialise exactly as canonicalize@4 does', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const v = value(random(seed), 0);
      if (v === undefined) continue;
      assert.equal(canonicalBytes(v), canonicalize(v), `seed ${seed}: ${JSON.stringify(v)}`);
    }
  });

  test('a decision record as the gateway writes it: same bytes', () => {
    const record = {
      v: 1,
      chain: 'a3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
      seq: 42,
      prev: 'f'.repeat(64),
      at: '2026-11-24T10:00:00.000Z',
      kind: 'decision',
      request: 'r-1',
      session: 's-1',
      principal: { agent: 'sales-bot', user: 'alice', tenant: 'acme', scopes: ['crm.write', 'crm.read'] },
      upstream: 'crm',
      method: 'tools/call',
      tool: 'crm__update_contact',
      target: 'update_contact',
      args: { tenant: 'acme', contact_id: 'ct_1', tags: ['decision-maker'], nested: { z: 1, a: [null, { y: 'ü' }] } },
      verdict: 'allow',
      policies: ['b', 'a'],
    };
    assert.equal(canonicalBytes(record), canonicalize(record));
  });

  test('refuses what canonicalize@4 refuses, with its messages: NaN, Infinity, lone surrogates (in values and keys), cycles', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const deep: Record<string, unknown> = {};
    let at = deep;
    for (let i = 0; i < 40; i++) {
      const next: Record<string, unknown> = {};
      at.next = next;
      at = next;
    }
    at.back = deep;
    for (const [what, bad] of [
      ['NaN', { n: NaN }],
      ['Infinity', [1, -Infinity]],
      ['lone high surrogate', { s: 'a\ud800' }],
      ['lone low surrogate', ['\udc00b']],
      ['lone surrogate key', { 'k\ud83d': 1 }],
      ['cycle', cyclic],
      ['cycle 41 levels down', deep],
    ] as const) {
      let expected: Error | undefined;
      try {
        canonicalize(bad);
      } catch (err) {
        expected = err as Error;
      }
      assert.ok(expected, `canonicalize@4 accepted ${what}`);
      assert.throws(() => canonicalBytes(bad), { message: expected.message }, what);
    }
  });

  test('undefined alone is refused; undefined and functions inside are treated as canonicalize@4 does', () => {
    assert.throws(() => canonicalBytes(undefined), TypeError);
    const odd = { u: undefined, list: [undefined, 1, () => 1], f: (): number => 1 };
    assert.equal(canonicalBytes(odd), canonicalize(odd));
  });
});
