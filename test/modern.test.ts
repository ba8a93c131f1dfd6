/**
 * Tests of the 2026-07-28 wire functions in src/protocol/modern.ts: unit tests naming each input,
 * then the real thing: an SDK v2 client captured by a node:http server, an SDK v2 server
 * (createMcpHandler) driven by the gateway-side functions, and an SDK v1 legacy server probed.
 */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { McpServer as V1McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport as V1Transport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { acceptedContent, createMcpHandler, inputRequired, McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import type { JsonRpcMessage, JsonRpcRequest } from '../src/protocol/jsonrpc.js';
import {
  checkModernHeaders,
  checkParamHeaders,
  checkProtocolVersion,
  classifyClientEra,
  classifyDiscoverProbe,
  classifyResult,
  decodeHeaderValue,
  discoverResult,
  encodeHeaderValue,
  type HeaderBag,
  inputRequestFromLegacy,
  isModernProtocolVersion,
  MetaKey,
  MODERN_PROTOCOL_VERSION,
  ModernErrorCode,
  markResult,
  missingCapabilities,
  modernHeadersFor,
  paramHeadersFor,
  parseDiscoverResult,
  readParamHeaderDeclarations,
  readRequestEnvelope,
  readRetryInput,
  unmarkResult,
  withoutRequestEnvelope,
  withoutRetryInput,
  withRequestEnvelope,
} from '../src/protocol/modern.js';

const V = MODERN_PROTOCOL_VERSION;
const envelopeMeta = (extra: Record<string, unknown> = {}) => ({
  [MetaKey.protocolVersion]: V,
  [MetaKey.clientInfo]: { name: 'test-client', version: '1.0.0' },
  [MetaKey.clientCapabilities]: {},
  ...extra,
});
const toolsCall = (name = 'get_weather', meta: Record<string, unknown> = envelopeMeta()): JsonRpcRequest => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name, arguments: { location: 'Seattle' }, _meta: meta },
});
const goodHeaders = (extra: HeaderBag = {}): HeaderBag => ({
  'mcp-protocol-version': V,
  'mcp-method': 'tools/call',
  'mcp-name': 'get_weather',
  ...extra,
});

function assertHeaderMismatch(result: ReturnType<typeof checkModernHeaders>, messagePart: string): void {
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.status, 400);
  assert.equal(result.error.code, ModernErrorCode.HeaderMismatch);
  assert.match(result.error.message, new RegExp(messagePart));
}

describe('readRequestEnvelope', () => {
  it('accepts a full envelope (version, capabilities, clientInfo, logLevel)', () => {
    const env = readRequestEnvelope(toolsCall('x', envelopeMeta({ [MetaKey.logLevel]: 'debug', progressToken: 7 })));
    assert.deepEqual(env, {
      protocolVersion: V,
      clientCapabilities: {},
      clientInfo: { name: 'test-client', version: '1.0.0' },
      logLevel: 'debug',
    });
  });

  it('accepts an envelope without clientInfo (a SHOULD, not a MUST)', () => {
    const env = readRequestEnvelope(toolsCall('x', { [MetaKey.protocolVersion]: V, [MetaKey.clientCapabilities]: { elicitation: {} } }));
    assert.deepEqual(env, { protocolVersion: V, clientCapabilities: { elicitation: {} } });
  });

  const bad: Array<[string, Record<string, unknown> | undefined, string]> = [
    ['no _meta at all', undefined, '_meta'],
    ['_meta without protocolVersion', { [MetaKey.clientCapabilities]: {} }, MetaKey.protocolVersion],
    ['protocolVersion is a number', envelopeMeta({ [MetaKey.protocolVersion]: 2026 }), MetaKey.protocolVersion],
    ['protocolVersion is empty', envelopeMeta({ [MetaKey.protocolVersion]: '' }), MetaKey.protocolVersion],
    ['_meta without clientCapabilities', { [MetaKey.protocolVersion]: V }, MetaKey.clientCapabilities],
    ['clientCapabilities is an array', envelopeMeta({ [MetaKey.clientCapabilities]: [] }), MetaKey.clientCapabilities],
    ['clientInfo.name is a number', envelopeMeta({ [MetaKey.clientInfo]: { name: 1, version: '1' } }), MetaKey.clientInfo],
    ['logLevel "loud" is not a level', envelopeMeta({ [MetaKey.logLevel]: 'loud' }), MetaKey.logLevel],
  ];
  for (const [label, meta, key] of bad) {
    it(`rejects ${label} with -32602 and 400`, () => {
      const request: JsonRpcRequest = { jsonrpc: '2.0', id: 3, method: 'tools/list', params: meta === undefined ? {} : { _meta: meta } };
      const result = readRequestEnvelope(request);
      assert.ok('error' in result, 'expected a rejection');
      assert.equal(result.status, 400);
      assert.equal(result.error.code, -32602);
      assert.deepEqual((result.error.data as { envelope: { key: string } }).envelope.key, key);
    });
  }
});

describe('withRequestEnvelope / withoutRequestEnvelope', () => {
  it('adds the envelope, keeps progressToken and traceparent, drops a stale clientInfo, does not mutate', () => {
    const original: JsonRpcRequest = {
      jsonrpc: '2.0',
      id: 9,
      method: 'tools/call',
      params: { name: 't', _meta: { progressToken: 'p1', traceparent: '00-abc-def-01', [MetaKey.clientInfo]: { name: 'downstream', version: '1' } } },
    };
    const frozen = structuredClone(original);
    const out = withRequestEnvelope(original, { protocolVersion: V, clientCapabilities: { sampling: {} } });
    assert.deepEqual(original, frozen);
    assert.deepEqual(out.params?._meta, {
      progressToken: 'p1',
      traceparent: '00-abc-def-01',
      [MetaKey.protocolVersion]: V,
      [MetaKey.clientCapabilities]: { sampling: {} },
    });
    const withInfo = withRequestEnvelope(original, { protocolVersion: V, clientCapabilities: {}, clientInfo: { name: 'toolgate', version: '0.1.0' } });
    assert.deepEqual((withInfo.params!._meta as Record<string, unknown>)[MetaKey.clientInfo], { name: 'toolgate', version: '0.1.0' });
  });

  it('strips the envelope for a legacy upstream and keeps progressToken', () => {
    const out = withoutRequestEnvelope(toolsCall('t', envelopeMeta({ progressToken: 5, [MetaKey.logLevel]: 'info' })));
    assert.deepEqual(out.params, { name: 't', arguments: { location: 'Seattle' }, _meta: { progressToken: 5 } });
  });

  it('removes an emptied _meta and an emptied params (input: tools/list with envelope only)', () => {
    const out = withoutRequestEnvelope({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: envelopeMeta() } });
    assert.deepEqual(out, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
  });
});

describe('checkModernHeaders', () => {
  it('accepts matching headers on tools/call', () => {
    assert.deepEqual(checkModernHeaders(goodHeaders(), toolsCall()), { ok: true });
  });

  it('accepts header names in any case (MCP-METHOD, Mcp-Name)', () => {
    const headers = { 'MCP-PROTOCOL-VERSION': V, 'MCP-METHOD': 'tools/call', 'Mcp-Name': 'get_weather' };
    assert.deepEqual(checkModernHeaders(headers, toolsCall()), { ok: true });
  });

  it('accepts optional whitespace around Mcp-Name ("  get_weather  ")', () => {
    assert.deepEqual(checkModernHeaders(goodHeaders({ 'mcp-name': '  get_weather  ' }), toolsCall()), { ok: true });
  });

  it('accepts a Base64-sentinel Mcp-Name for a non-ASCII tool name ("météo")', () => {
    const headers = goodHeaders({ 'mcp-name': encodeHeaderValue('météo') });
    assert.match(String(headers['mcp-name']), /^=\?base64\?/);
    assert.deepEqual(checkModernHeaders(headers, toolsCall('météo')), { ok: true });
  });

  it('accepts tools/list without Mcp-Name and ignores a stray Mcp-Name there', () => {
    const list: JsonRpcRequest = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: envelopeMeta() } };
    assert.deepEqual(checkModernHeaders({ 'mcp-protocol-version': V, 'mcp-method': 'tools/list' }, list), { ok: true });
    assert.deepEqual(checkModernHeaders({ 'mcp-protocol-version': V, 'mcp-method': 'tools/list', 'mcp-name': 'x' }, list), { ok: true });
  });

  it('rejects a missing MCP-Protocol-Version', () => {
    const { 'mcp-protocol-version': _v, ...headers } = goodHeaders();
    assertHeaderMismatch(checkModernHeaders(headers, toolsCall()), 'MCP-Protocol-Version header is missing');
  });

  it('rejects MCP-Protocol-Version 2025-11-25 against a body declaring 2026-07-28', () => {
    assertHeaderMismatch(checkModernHeaders(goodHeaders({ 'mcp-protocol-version': '2025-11-25' }), toolsCall()), 'does not match the body');
  });

  it('rejects MCP-Protocol-Version 2026-07-28 against a body declaring "v999.0.0" (mismatch beats unsupported)', () => {
    const result = checkModernHeaders(goodHeaders(), toolsCall('get_weather', envelopeMeta({ [MetaKey.protocolVersion]: 'v999.0.0' })));
    assertHeaderMismatch(result, 'v999');
  });

  it('rejects a missing Mcp-Method', () => {
    const { 'mcp-method': _m, ...headers } = goodHeaders();
    assertHeaderMismatch(checkModernHeaders(headers, toolsCall()), 'Mcp-Method header is missing');
  });

  it('rejects Mcp-Method "tools/list" on a tools/call body', () => {
    assertHeaderMismatch(checkModernHeaders(goodHeaders({ 'mcp-method': 'tools/list' }), toolsCall()), 'Mcp-Method "tools/list"');
  });

  it('rejects Mcp-Method "TOOLS/CALL" (values are case-sensitive)', () => {
    assertHeaderMismatch(checkModernHeaders(goodHeaders({ 'mcp-method': 'TOOLS/CALL' }), toolsCall()), 'Mcp-Method');
  });

  it('rejects a missing Mcp-Name when the body names a tool', () => {
    const { 'mcp-name': _n, ...headers } = goodHeaders();
    assertHeaderMismatch(checkModernHeaders(headers, toolsCall()), 'Mcp-Name header is missing');
  });

  it('rejects Mcp-Name "delete_everything" on a get_weather body', () => {
    assertHeaderMismatch(checkModernHeaders(goodHeaders({ 'mcp-name': 'delete_everything' }), toolsCall()), 'does not match params.name');
  });

  it('rejects Mcp-Name "get_weather" when the body names no tool', () => {
    const body: JsonRpcRequest = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { _meta: envelopeMeta() } };
    assertHeaderMismatch(checkModernHeaders(goodHeaders(), body), 'does not match params.name nothing');
  });

  it('rejects an invalid Base64 sentinel "=?base64?!!!?="', () => {
    assertHeaderMismatch(checkModernHeaders(goodHeaders({ 'mcp-name': '=?base64?!!!?=' }), toolsCall()), 'invalid Base64');
  });

  it('rejects a sentinel whose payload is not UTF-8 ("=?base64?/w==?=", byte 0xff)', () => {
    assertHeaderMismatch(checkModernHeaders(goodHeaders({ 'mcp-name': '=?base64?/w==?=' }), toolsCall()), 'invalid Base64');
  });

  it('rejects a raw non-ASCII Mcp-Name ("météo" unencoded)', () => {
    assertHeaderMismatch(checkModernHeaders(goodHeaders({ 'mcp-name': 'météo' }), toolsCall('météo')), 'invalid characters');
  });

  it('rejects Mcp-Method given twice (array of two values)', () => {
    assertHeaderMismatch(checkModernHeaders(goodHeaders({ 'mcp-method': ['tools/call', 'tools/call'] }), toolsCall()), 'more than once');
  });

  it('rejects the same header under two spellings ("Mcp-Method" and "mcp-method")', () => {
    assertHeaderMismatch(checkModernHeaders({ ...goodHeaders(), 'Mcp-Method': 'tools/call' }, toolsCall()), 'more than once');
  });

  it('checks resources/read Mcp-Name against params.uri', () => {
    const read: JsonRpcRequest = { jsonrpc: '2.0', id: 4, method: 'resources/read', params: { uri: 'file:///a b.txt', _meta: envelopeMeta() } };
    const headers = { 'mcp-protocol-version': V, 'mcp-method': 'resources/read', 'mcp-name': 'file:///a b.txt' };
    assert.deepEqual(checkModernHeaders(headers, read), { ok: true });
    assertHeaderMismatch(checkModernHeaders({ ...headers, 'mcp-name': 'file:///etc/passwd' }, read), 'params.uri');
  });

  it('lets a notification without headers through, but not one with a wrong Mcp-Method', () => {
    const note: JsonRpcMessage = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } };
    assert.deepEqual(checkModernHeaders({}, note), { ok: true });
    assertHeaderMismatch(checkModernHeaders({ 'mcp-method': 'notifications/progress' }, note), 'Mcp-Method');
  });

  it('refuses a posted JSON-RPC response with 400 and -32600', () => {
    const result = checkModernHeaders(goodHeaders(), { jsonrpc: '2.0', id: 1, result: {} });
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(result.status, 400);
      assert.equal(result.error.code, -32600);
    }
  });
});

describe('modernHeadersFor', () => {
  it('derives version, method and name for tools/call', () => {
    assert.deepEqual(modernHeadersFor(toolsCall(), V), {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': V,
      'Mcp-Method': 'tools/call',
      'Mcp-Name': 'get_weather',
    });
  });

  it('encodes an unsafe name ("météo") and the result passes checkModernHeaders', () => {
    const request = toolsCall('météo');
    const headers = modernHeadersFor(request, V);
    assert.equal(headers['Mcp-Name'], '=?base64?bcOpdMOpbw==?=');
    assert.deepEqual(checkModernHeaders(headers, request), { ok: true });
  });

  it('sends no Mcp-Name for tools/list', () => {
    const headers = modernHeadersFor({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, V);
    assert.equal('Mcp-Name' in headers, false);
    assert.equal(headers['Mcp-Method'], 'tools/list');
  });

  it('throws when the body declares 2025-11-25 but the headers would say 2026-07-28', () => {
    assert.throws(() => modernHeadersFor(toolsCall('t', envelopeMeta({ [MetaKey.protocolVersion]: '2025-11-25' })), V), TypeError);
  });

  it('adds Mcp-Param-* headers from x-mcp-header declarations', () => {
    const decl = readParamHeaderDeclarations({ type: 'object', properties: { location: { type: 'string', 'x-mcp-header': 'Location' } } });
    assert.ok(decl.ok);
    const headers = modernHeadersFor(toolsCall(), V, decl.declarations);
    assert.equal(headers['Mcp-Param-Location'], 'Seattle');
  });
});

describe('header value encoding (the spec table)', () => {
  const table: Array<[string, string]> = [
    ['us-west1', 'us-west1'],
    ['Hello, 世界', '=?base64?SGVsbG8sIOS4lueVjA==?='],
    [' padded ', '=?base64?IHBhZGRlZCA=?='],
    ['line1\nline2', '=?base64?bGluZTEKbGluZTI=?='],
    ['=?base64?literal?=', '=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?='],
    ['', '=?base64??='],
  ];
  for (const [plain, wire] of table) {
    it(`encodes ${JSON.stringify(plain)} as ${wire} and decodes it back`, () => {
      assert.equal(encodeHeaderValue(plain), wire);
      assert.equal(decodeHeaderValue(wire), plain);
    });
  }
  it('rejects non-canonical Base64 ("=?base64?ZWNobw?=", padding missing)', () => {
    assert.equal(decodeHeaderValue('=?base64?ZWNobw?='), undefined);
  });
});

describe('x-mcp-header / Mcp-Param-*', () => {
  const schema = {
    type: 'object',
    properties: {
      region: { type: 'string', 'x-mcp-header': 'Region' },
      limit: { type: 'integer', 'x-mcp-header': 'Limit' },
      dry: { type: 'boolean', 'x-mcp-header': 'Dry-Run' },
      nested: { type: 'object', properties: { tenant: { type: 'string', 'x-mcp-header': 'Tenant' } } },
    },
  };

  it('reads declarations at any depth of properties', () => {
    const decl = readParamHeaderDeclarations(schema);
    assert.ok(decl.ok);
    assert.deepEqual(
      decl.declarations.map((d) => [d.headerName, d.path.join('.'), d.type]),
      [
        ['Region', 'region', 'string'],
        ['Limit', 'limit', 'integer'],
        ['Dry-Run', 'dry', 'boolean'],
        ['Tenant', 'nested.tenant', 'string'],
      ],
    );
  });

  const invalid: Array<[string, unknown]> = [
    ['a number-typed property', { type: 'object', properties: { n: { type: 'number', 'x-mcp-header': 'N' } } }],
    ['an annotation under items', { type: 'object', properties: { a: { type: 'array', items: { type: 'string', 'x-mcp-header': 'A' } } } }],
    ['an annotation under anyOf', { type: 'object', anyOf: [{ properties: { a: { type: 'string', 'x-mcp-header': 'A' } } }] }],
    [
      'names equal ignoring case ("Region", "region")',
      { type: 'object', properties: { a: { type: 'string', 'x-mcp-header': 'Region' }, b: { type: 'string', 'x-mcp-header': 'region' } } },
    ],
    ['a name with a space ("My Header")', { type: 'object', properties: { a: { type: 'string', 'x-mcp-header': 'My Header' } } }],
    ['an empty name', { type: 'object', properties: { a: { type: 'string', 'x-mcp-header': '' } } }],
  ];
  for (const [label, bad] of invalid) {
    it(`refuses a tool with ${label}`, () => {
      assert.equal(readParamHeaderDeclarations(bad).ok, false);
    });
  }

  it('builds headers, omitting null and absent values', () => {
    const decl = readParamHeaderDeclarations(schema);
    assert.ok(decl.ok);
    assert.deepEqual(paramHeadersFor(decl.declarations, { region: 'eu west', limit: 42, dry: false, nested: { tenant: null } }), {
      'Mcp-Param-Region': 'eu west',
      'Mcp-Param-Limit': '42',
      'Mcp-Param-Dry-Run': 'false',
    });
  });

  it('checks headers against the body: missing, different, integer 42.0 = 42, bad sentinel', () => {
    const decl = readParamHeaderDeclarations(schema);
    assert.ok(decl.ok);
    const args = { region: 'eu', limit: 42 };
    assert.deepEqual(checkParamHeaders({ 'mcp-param-region': 'eu', 'mcp-param-limit': '42.0' }, decl.declarations, args), { ok: true });
    const missing = checkParamHeaders({ 'mcp-param-limit': '42' }, decl.declarations, args);
    assert.equal(missing.ok, false);
    if (!missing.ok) assert.equal(missing.error.code, -32020);
    const different = checkParamHeaders({ 'mcp-param-region': 'us', 'mcp-param-limit': '42' }, decl.declarations, args);
    assert.ok(!different.ok && different.status === 400 && /does not match/.test(different.error.message));
    const badSentinel = checkParamHeaders({ 'mcp-param-region': '=?base64?%%?=', 'mcp-param-limit': '42' }, decl.declarations, args);
    assert.ok(!badSentinel.ok && /Base64/.test(badSentinel.error.message));
  });
});

describe('discover, results, versions', () => {
  it('builds a DiscoverResult that parseDiscoverResult reads back', () => {
    const result = discoverResult({ supportedVersions: [V], capabilities: { tools: {} }, serverInfo: { name: 'toolgate', version: '0.1.0' }, instructions: 'hi' });
    assert.equal(result.resultType, 'complete');
    assert.equal(result.cacheScope, 'private');
    assert.equal(result.ttlMs, 0);
    const parsed = parseDiscoverResult(result);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.serverInfo, { name: 'toolgate', version: '0.1.0' });
    assert.equal(parsed.instructions, 'hi');
  });

  it('refuses a discover result with supportedVersions [] or without capabilities', () => {
    assert.equal(parseDiscoverResult({ supportedVersions: [], capabilities: {} }).ok, false);
    assert.equal(parseDiscoverResult({ supportedVersions: [V] }).ok, false);
    assert.equal(parseDiscoverResult({ protocolVersion: '2025-11-25', capabilities: {} }).ok, false);
  });

  it('marks a legacy tools/list result with resultType, caching hints and the gateway identity', () => {
    const marked = markResult(
      { tools: [], _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'upstream', version: '9' } } },
      {
        method: 'tools/list',
        cacheScope: 'private',
        serverInfo: { name: 'toolgate', version: '0.1.0' },
      },
    );
    assert.deepEqual(marked, {
      tools: [],
      resultType: 'complete',
      ttlMs: 0,
      cacheScope: 'private',
      _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'toolgate', version: '0.1.0' } },
    });
  });

  it('keeps input_required on an interim result and gives it no caching hints', () => {
    const marked = markResult({ resultType: 'input_required', requestState: 's', ttlMs: 5 }, { method: 'resources/read' });
    assert.deepEqual(marked, { resultType: 'input_required', requestState: 's' });
  });

  it('forces cacheScope "private" over an upstream "public" when asked', () => {
    assert.equal(markResult({ tools: [], resultType: 'complete', ttlMs: 1000, cacheScope: 'public' }, { method: 'tools/list', cacheScope: 'private' }).cacheScope, 'private');
  });

  it('unmarks a complete result and refuses to unmark input_required', () => {
    const un = unmarkResult({ content: [], resultType: 'complete', _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'u', version: '1' } } });
    assert.deepEqual(un, { ok: true, result: { content: [] } });
    assert.equal(unmarkResult({ resultType: 'input_required', requestState: 'x' }).ok, false);
  });

  it('classifies results: absent → complete; "partial" → invalid; input_required without fields → invalid', () => {
    assert.deepEqual(classifyResult({ content: [] }), { kind: 'complete' });
    assert.equal(classifyResult({ resultType: 'partial' }).kind, 'invalid');
    assert.equal(classifyResult({ resultType: 'input_required' }).kind, 'invalid');
    assert.deepEqual(classifyResult({ resultType: 'input_required', requestState: 'r' }), { kind: 'input_required', requestState: 'r' });
  });

  it('answers version 2099-01-01 with -32022 naming supported and requested', () => {
    const r = checkProtocolVersion('2099-01-01', [V]);
    assert.ok(!r.ok);
    assert.equal(r.status, 400);
    assert.deepEqual(r.error.data, { supported: [V], requested: '2099-01-01' });
    assert.equal(isModernProtocolVersion('2025-11-25'), false);
    assert.equal(isModernProtocolVersion('v999.0.0'), false);
  });
});

describe('era detection', () => {
  it('server side: the body decides', () => {
    const initialize: JsonRpcMessage = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25' } };
    assert.deepEqual(classifyClientEra(initialize, {}), { era: 'legacy' });
    assert.equal(classifyClientEra(initialize, { 'mcp-protocol-version': V }).era, 'reject');
    assert.deepEqual(classifyClientEra(toolsCall(), {}), { era: 'modern' });
    const bare: JsonRpcMessage = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
    assert.deepEqual(classifyClientEra(bare, { 'mcp-protocol-version': '2025-11-25', 'mcp-session-id': 'abc' }), { era: 'legacy' });
    assert.deepEqual(classifyClientEra(bare, { 'MCP-Protocol-Version': V }), { era: 'modern' });
    assert.deepEqual(classifyClientEra({ jsonrpc: '2.0', id: 1, result: {} }, {}), { era: 'legacy' });
  });

  it('client side: probe replies', () => {
    const ours = [V];
    const discover = { jsonrpc: '2.0', id: 'p', result: discoverResult({ supportedVersions: [V], capabilities: {}, serverInfo: { name: 's', version: '1' } }) };
    assert.equal(classifyDiscoverProbe({ status: 200, body: discover }, ours).kind, 'modern');
    const legacy400 = { jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Bad Request: No valid session ID provided' } };
    assert.deepEqual(classifyDiscoverProbe({ status: 400, body: legacy400 }, ours), { kind: 'legacy' });
    assert.deepEqual(classifyDiscoverProbe({ status: 404 }, ours), { kind: 'legacy' });
    const unsupported = { jsonrpc: '2.0', id: 'p', error: { code: -32022, message: 'x', data: { supported: ['2027-01-01', V], requested: '2027-06-01' } } };
    assert.deepEqual(classifyDiscoverProbe({ status: 400, body: unsupported }, ['2027-06-01', V]), { kind: 'retry', version: V });
    const mismatch = { jsonrpc: '2.0', id: 'p', error: { code: -32020, message: 'Header mismatch' } };
    assert.equal(classifyDiscoverProbe({ status: 400, body: mismatch }, ours).kind, 'error');
    assert.equal(classifyDiscoverProbe({ status: 401 }, ours).kind, 'error');
    assert.equal(classifyDiscoverProbe({ status: 503 }, ours).kind, 'error');
  });
});

describe('multi round-trip helpers', () => {
  it('reads and strips inputResponses / requestState', () => {
    const retry: JsonRpcRequest = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 't', inputResponses: { ok: { action: 'accept' } }, requestState: 'abc' } };
    assert.deepEqual(readRetryInput(retry), { inputResponses: { ok: { action: 'accept' } }, requestState: 'abc' });
    assert.deepEqual(withoutRetryInput(retry).params, { name: 't' });
    const bad = readRetryInput({ ...retry, params: { requestState: 5 } });
    assert.ok('error' in bad && bad.error.code === -32602);
  });

  it('finds missing capabilities: elicitation {} means form only; url and sampling must be declared', () => {
    const requests = {
      a: { method: 'elicitation/create', params: { message: 'form please', requestedSchema: { type: 'object', properties: {} } } },
      b: { method: 'elicitation/create', params: { mode: 'url', message: 'go', url: 'https://x.example' } },
      c: { method: 'sampling/createMessage', params: { messages: [], maxTokens: 5 } },
    };
    assert.deepEqual(missingCapabilities(requests, { elicitation: {} }), { elicitation: { url: {} }, sampling: {} });
    assert.equal(missingCapabilities(requests, { elicitation: { form: {}, url: {} }, sampling: {} }), undefined);
    assert.deepEqual(missingCapabilities({ r: { method: 'roots/list' } }, {}), { roots: {} });
  });

  it('turns a 2025 elicitation request into an input request without id or elicitationId', () => {
    const legacy: JsonRpcRequest = { jsonrpc: '2.0', id: 17, method: 'elicitation/create', params: { mode: 'url', message: 'm', url: 'https://x', elicitationId: 'e1' } };
    assert.deepEqual(inputRequestFromLegacy(legacy), { method: 'elicitation/create', params: { mode: 'url', message: 'm', url: 'https://x' } });
    assert.equal(inputRequestFromLegacy({ jsonrpc: '2.0', id: 1, method: 'ping' }), undefined);
  });
});

// ---------------------------------------------------------------------------------------------
// Real SDK parts.

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`)));
}

function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** node:http in front of a fetch-shaped handler (the SDK v2 server's createMcpHandler face). */
function fetchServer(handler: (request: Request) => Promise<Response>): http.Server {
  return http.createServer(async (req, res) => {
    const body = await readBody(req);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    const response = await handler(new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers, body: body.length > 0 ? body : undefined }));
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
}

/** The JSON-RPC response in a body that is either JSON or an SSE stream. */
function responseOf(contentType: string | null, text: string): Record<string, unknown> {
  if (contentType?.includes('text/event-stream')) {
    const frames = text
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => JSON.parse(l.slice(5)) as Record<string, unknown>);
    const found = frames.find((f) => 'result' in f || 'error' in f);
    assert.ok(found, `no response frame in ${text}`);
    return found;
  }
  return JSON.parse(text) as Record<string, unknown>;
}

describe('a real SDK v2 client (versionNegotiation auto) against a capturing node:http server', () => {
  const captured: Array<{ headers: http.IncomingHttpHeaders; body: JsonRpcMessage }> = [];
  let server: http.Server;
  let url: string;

  before(async () => {
    server = http.createServer(async (req, res) => {
      if (req.method !== 'POST') {
        res.writeHead(405).end();
        return;
      }
      const body = JSON.parse(await readBody(req)) as JsonRpcMessage;
      captured.push({ headers: req.headers, body });
      if (!('method' in body) || !('id' in body)) {
        res.writeHead(202).end();
        return;
      }
      const check = checkModernHeaders(req.headers, body);
      if (!check.ok) {
        res.writeHead(check.status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: body.id, error: check.error }));
        return;
      }
      const serverInfo = { name: 'capture', version: '1.0.0' };
      let result: Record<string, unknown>;
      if (body.method === 'server/discover') {
        result = discoverResult({ supportedVersions: [V], capabilities: { tools: {} }, serverInfo });
      } else if (body.method === 'tools/list') {
        result = markResult({ tools: [{ name: 'météo', inputSchema: { type: 'object', properties: { city: { type: 'string' } } } }] }, { method: 'tools/list', serverInfo });
      } else {
        result = markResult({ content: [{ type: 'text', text: 'sunny' }] }, { method: body.method, serverInfo });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: body.id, result }));
    });
    url = await listen(server);
    const client = new Client({ name: 'capture-test', version: '2.0.0' }, { versionNegotiation: { mode: 'auto' }, capabilities: { elicitation: { form: {} } } });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    const result = await client.callTool({ name: 'météo', arguments: { city: 'Zürich' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'sunny' }]);
    await client.close();
  });

  after(() => close(server));

  const sent = (method: string) => {
    const found = captured.find((c) => 'method' in c.body && c.body.method === method);
    assert.ok(found, `the client sent no ${method}; it sent ${captured.map((c) => ('method' in c.body ? c.body.method : 'response')).join(', ')}`);
    return found as { headers: http.IncomingHttpHeaders; body: JsonRpcRequest };
  };

  it('probes with server/discover first, carrying the full envelope', () => {
    const first = captured[0];
    assert.ok(first && 'method' in first.body);
    assert.equal(first.body.method, 'server/discover');
    const env = readRequestEnvelope(first.body as JsonRpcRequest);
    assert.ok(!('error' in env));
    assert.equal(env.protocolVersion, V);
    assert.deepEqual(env.clientInfo, { name: 'capture-test', version: '2.0.0' });
    assert.deepEqual(env.clientCapabilities, { elicitation: { form: {} } });
    assert.equal(first.headers['mcp-method'], 'server/discover');
    assert.equal(
      captured.some((c) => 'method' in c.body && c.body.method === 'initialize'),
      false,
    );
  });

  it('sends a tools/call that readRequestEnvelope and checkModernHeaders accept, with a Base64 Mcp-Name for "météo"', () => {
    const call = sent('tools/call');
    assert.ok(!('error' in readRequestEnvelope(call.body)));
    assert.deepEqual(checkModernHeaders(call.headers, call.body), { ok: true });
    assert.equal(call.headers['mcp-name'], encodeHeaderValue('météo'));
    assert.equal(call.headers['mcp-protocol-version'], V);
    assert.equal(call.headers['mcp-session-id'], undefined);
  });

  it('tampered Mcp-Method ("tools/list") on that tools/call is refused with 400 and -32020', async () => {
    const call = sent('tools/call');
    const res = await fetch(url, { method: 'POST', headers: { ...modernHeadersFor(call.body, V), 'Mcp-Method': 'tools/list' }, body: JSON.stringify(call.body) });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { id: unknown; error: { code: number } };
    assert.equal(body.error.code, -32020);
    assert.equal(body.id, call.body.id);
  });

  it('tampered Mcp-Name ("delete_everything") on that tools/call is refused with 400 and -32020', async () => {
    const call = sent('tools/call');
    const res = await fetch(url, { method: 'POST', headers: { ...modernHeadersFor(call.body, V), 'Mcp-Name': 'delete_everything' }, body: JSON.stringify(call.body) });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { code: number } }).error.code, -32020);
  });
});

describe('the gateway side against a real SDK v2 server (createMcpHandler)', () => {
  let server: http.Server;
  let url: string;
  const capabilities = { elicitation: { form: {} } };
  const clientInfo = { name: 'toolgate', version: '0.1.0' };

  before(async () => {
    const factory = () => {
      const s = new McpServer({ name: 'upstream-v2', version: '2.4.0' });
      s.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text' as const, text }] }));
      s.registerTool('deploy', { inputSchema: { env: z.string() } }, async ({ env }, ctx) => {
        const confirmed = acceptedContent(ctx.mcpReq.inputResponses, 'confirm');
        if (confirmed?.ok !== true) {
          return inputRequired({
            inputRequests: {
              confirm: inputRequired.elicit({ message: `Deploy ${env}?`, requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] } }),
            },
            requestState: `deploy:${env}`,
          });
        }
        return { content: [{ type: 'text' as const, text: `deployed ${env} (${String(ctx.mcpReq.requestState())})` }] };
      });
      return s;
    };
    server = fetchServer(createMcpHandler(factory).fetch);
    url = await listen(server);
  });

  after(() => close(server));

  let nextId = 100;
  async function send(method: string, params: Record<string, unknown>, headerOverride: Record<string, string> = {}) {
    const request = withRequestEnvelope({ jsonrpc: '2.0', id: nextId++, method, params }, { protocolVersion: V, clientCapabilities: capabilities, clientInfo });
    const res = await fetch(url, { method: 'POST', headers: { ...modernHeadersFor(request, V), ...headerOverride }, body: JSON.stringify(request) });
    return { status: res.status, request, body: responseOf(res.headers.get('content-type'), await res.text()) };
  }

  it('server/discover probe → classifyDiscoverProbe says modern at 2026-07-28', async () => {
    const { status, body } = await send('server/discover', {});
    const verdict = classifyDiscoverProbe({ status, body }, [V]);
    assert.equal(verdict.kind, 'modern');
    if (verdict.kind === 'modern') assert.deepEqual(verdict.discovered.serverInfo, { name: 'upstream-v2', version: '2.4.0' });
  });

  it('a tools/call built with withRequestEnvelope + modernHeadersFor is served', async () => {
    const { status, body } = await send('tools/call', { name: 'echo', arguments: { text: 'hi' } });
    assert.equal(status, 200);
    const result = body.result as Record<string, unknown>;
    assert.deepEqual(classifyResult(result), { kind: 'complete' });
    assert.deepEqual(unmarkResult(result), { ok: true, result: { content: [{ type: 'text', text: 'hi' }] } });
  });

  it('the real server agrees on the statuses: wrong Mcp-Name → 400/-32020, version 2099-01-01 → 400/-32022, ping → 404/-32601', async () => {
    const wrongName = await send('tools/call', { name: 'echo', arguments: { text: 'hi' } }, { 'Mcp-Name': 'other' });
    assert.equal(wrongName.status, 400);
    assert.equal((wrongName.body.error as { code: number }).code, -32020);
    const future = withRequestEnvelope({ jsonrpc: '2.0', id: nextId++, method: 'tools/list' }, { protocolVersion: '2099-01-01', clientCapabilities: {} });
    const res = await fetch(url, { method: 'POST', headers: modernHeadersFor(future, '2099-01-01'), body: JSON.stringify(future) });
    assert.equal(res.status, 400);
    const err = ((await res.json()) as { error: { code: number; data: unknown } }).error;
    assert.equal(err.code, -32022);
    assert.deepEqual(err.data, { supported: [V], requested: '2099-01-01' });
    const ping = await send('ping', {});
    assert.equal(ping.status, 404);
    assert.equal((ping.body.error as { code: number }).code, -32601);
  });

  it('MRTR: input_required (elicitation + requestState), then a retry under a new id completes', async () => {
    const first = await send('tools/call', { name: 'deploy', arguments: { env: 'prod' } });
    const result = first.body.result as Record<string, unknown>;
    const cls = classifyResult(result);
    assert.equal(cls.kind, 'input_required');
    if (cls.kind !== 'input_required') return;
    assert.equal(cls.requestState, 'deploy:prod');
    assert.equal(missingCapabilities(cls.inputRequests ?? {}, capabilities), undefined);
    assert.deepEqual(missingCapabilities(cls.inputRequests ?? {}, {}), { elicitation: { form: {} } });
    const retry = await send('tools/call', {
      name: 'deploy',
      arguments: { env: 'prod' },
      inputResponses: { confirm: { action: 'accept', content: { ok: true } } },
      requestState: cls.requestState,
    });
    assert.notEqual(retry.request.id, first.request.id);
    assert.deepEqual((retry.body.result as { content: unknown }).content, [{ type: 'text', text: 'deployed prod (deploy:prod)' }]);
  });
});

describe('probing a real SDK v1 (2025-era, sessionful) server', () => {
  let server: http.Server;
  let url: string;
  const sessions = new Map<string, V1Transport>();

  before(async () => {
    server = http.createServer(async (req, res) => {
      const raw = await readBody(req);
      const body = raw.length > 0 ? (JSON.parse(raw) as { method?: string }) : undefined;
      const sid = req.headers['mcp-session-id'];
      let transport = typeof sid === 'string' ? sessions.get(sid) : undefined;
      if (transport === undefined) {
        // A fresh SDK v1 transport per session-less POST: it answers anything but initialize itself.
        const t = new V1Transport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (id) => void sessions.set(id, t) });
        transport = t;
        await new V1McpServer({ name: 'legacy-v1', version: '1.32.2' }).connect(t);
      }
      await transport.handleRequest(req, res, body);
    });
    url = await listen(server);
  });

  after(async () => {
    for (const t of sessions.values()) await t.close();
    await close(server);
  });

  it("a server/discover probe gets the v1 transport's own 400 (-32000, not initialized), which reads as legacy", async () => {
    const probe = withRequestEnvelope(
      { jsonrpc: '2.0', id: 'probe-1', method: 'server/discover' },
      { protocolVersion: V, clientCapabilities: {}, clientInfo: { name: 'toolgate', version: '0.1.0' } },
    );
    const res = await fetch(url, { method: 'POST', headers: modernHeadersFor(probe, V), body: JSON.stringify(probe) });
    const text = await res.text();
    assert.equal(res.status, 400);
    assert.equal((JSON.parse(text) as { error: { code: number } }).error.code, -32000);
    assert.deepEqual(classifyDiscoverProbe({ status: res.status, body: JSON.parse(text) }, [V]), { kind: 'legacy' });
  });
});
