/**
 * The params check every routed call passes before anything serialises, hashes or walks its
 * params: values as `JSON.parse` produces them from hostile request bodies.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalBytes } from '../src/audit/hashing.js';
import { describeShape, MAX_PARAMS_DEPTH, shapeProblem } from '../src/pipeline/argument-shape.js';

const nested = (depth: number, open: string, leaf: string, close: string): string => `${open.repeat(depth)}${leaf}${close.repeat(depth)}`;

describe('shapeProblem', () => {
  test('params nested 1,000,000 levels deep (arrays, then objects): the check itself does not overflow, and names the limit', () => {
    for (const text of [nested(1_000_000, '[', '', ']'), nested(1_000_000, '{"a":', '1', '}')]) {
      const problem = shapeProblem({ name: 't', arguments: { x: JSON.parse(text) } });
      assert.equal(problem?.reason, `are nested deeper than ${MAX_PARAMS_DEPTH} levels`);
      assert.ok(problem.pointer.startsWith('/arguments/x/'), problem.pointer);
      assert.ok(problem.pointer.length <= 201, 'the pointer is cut');
    }
  });

  test('exactly 64 levels (params counted as the first) pass; 65 do not', () => {
    // params (1) → arguments (2) → x (3) → 61 more arrays = 64 levels.
    const ok = { arguments: { x: JSON.parse(nested(62, '[', '', ']')) } };
    assert.equal(shapeProblem(ok), undefined);
    const deep = { arguments: { x: JSON.parse(nested(63, '[', '', ']')) } };
    assert.equal(shapeProblem(deep)?.reason, 'are nested deeper than 64 levels');
  });

  test('1e400 and -1e400 (±Infinity after JSON.parse) anywhere, in objects and arrays: found, with their pointer', () => {
    const params = JSON.parse('{"name":"t","arguments":{"a":[1,2,{"b/c~d":-1e400}]}}');
    const problem = shapeProblem(params)!;
    assert.deepEqual(problem, { pointer: '/arguments/a/2/b~1c~0d', reason: 'hold a number JSON cannot represent (-Infinity)' });
    assert.equal(describeShape(problem), 'arguments hold a number JSON cannot represent (-Infinity) at /a/2/b~1c~0d');
    assert.equal(describeShape(shapeProblem(JSON.parse('{"_meta":{"n":1e400}}'))!), 'params hold a number JSON cannot represent (Infinity) at /_meta/n');
  });

  test('a lone surrogate in a value or in a property name (JSON escapes \\ud800, \\udc00): found; the pointer itself stays writable', () => {
    assert.equal(shapeProblem(JSON.parse('{"arguments":{"s":"x\\ud800"}}'))?.pointer, '/arguments/s');
    assert.equal(shapeProblem(JSON.parse('{"arguments":{"s":"\\udc00x"}}'))?.pointer, '/arguments/s');
    const key = shapeProblem(JSON.parse('{"arguments":{"o":{"\\ud800":1}}}'))!;
    assert.equal(key.pointer, '/arguments/o');
    assert.doesNotThrow(() => canonicalBytes({ reason: describeShape(key) }));
  });

  test('what canonical hashing accepts passes: paired surrogates (emoji), large finite numbers, empty containers, null', () => {
    const params = JSON.parse('{"name":"t","arguments":{"e":"\\ud83d\\ude00","n":1e308,"m":-0,"o":{},"a":[],"z":null,"t":true}}');
    assert.equal(shapeProblem(params), undefined);
    assert.doesNotThrow(() => canonicalBytes(params));
  });
});
