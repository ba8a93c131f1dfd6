/**
 * Every refusal of a routed call leaves a decision record saying why, in a real audit log (the
 * default SQLite store, whose records must be RFC 8785-writable), and the client gets a specific
 * JSON-RPC error — never an exception's text. Params `JSON.parse` accepts but no record can hold
 * (`1e400` → Infinity, a lone surrogate) or nested deeper than the gateway walks (5,000 levels)
 * are tried raw on the wire, against the probe upstream behind a policy that allows everything.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { trustedKeys } from '../src/audit/checkpoint.js';
import { SqliteAuditStore } from '../src/audit/sqlite-store.js';
import { verifyStore } from '../src/audit/verify-store.js';
import type { RunningGateway } from '../src/gateway.js';
import type { Logger } from '../src/log.js';
import type { CredentialStage } from '../src/pipeline/stages.js';
import { type ProbeServer, startProbeServer } from './fixtures/probe-server.js';
import { gatewayWith, MCP_HEADERS, openSession } from './support/gateway.js';
import { tempHome } from './support/temp-home.js';
import { waitFor } from './support/wait-for.js';

const home = tempHome();
const lines: string[] = [];
const logger: Logger = { log: (level, message) => lines.push(`${level} ${message}`) };
/**
 * STAND-IN for a credential stage with a bug: the real one turns its own failures into typed
 * errors, so an arbitrary exception in a stage cannot be provoked through it. Throws for one tag.
 */
const credentials: CredentialStage = {
  async credentialFor(_principal, invocation) {
    if (invocation.arguments.tag === 'explode') throw new Error('signer exploded at /internal/path/key.pem');
    return {};
  },
};
let probe: ProbeServer;
let gateway: RunningGateway;
let sid: string;

before(async () => {
  writeFileSync(join(home.path, 'all.cedar'), '@id("everything")\npermit (principal, action, resource);\n');
  probe = await startProbeServer();
  gateway = await gatewayWith(`upstreams:\n  - id: crm\n    url: ${probe.url}\npolicy:\n  files: ${join(home.path, 'all.cedar')}\n`, {
    home: home.path,
    logger,
    credentials,
  });
  sid = await openSession(gateway.url);
});

after(async () => {
  await gateway?.close();
  await probe?.close();
  home.remove();
});

let nextId = 100;

/** One tools/call of crm__count with `argumentsText` as the raw JSON of its arguments. */
async function callRaw(argumentsText: string): Promise<{ id: number; answer: { error?: { code: number; message: string }; result?: unknown } }> {
  const id = nextId++;
  const body = `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"crm__count","arguments":${argumentsText}}}`;
  const res = await fetch(gateway.url, { method: 'POST', headers: { ...MCP_HEADERS, 'mcp-session-id': sid }, body });
  assert.equal(res.status, 200);
  const text = await res.text();
  const data = text.startsWith('{')
    ? text
    : text
        .split('\n')
        .filter((l) => l.startsWith('data: {'))
        .at(-1)!
        .slice('data: '.length);
  return { id, answer: JSON.parse(data) };
}

/** The decision records written so far, read from the SQLite file beside the running gateway. */
async function decisions(): Promise<Array<Record<string, unknown> & { detail?: Record<string, unknown>; args?: Record<string, unknown> }>> {
  const store = new SqliteAuditStore(join(home.path, 'audit.db'), { readonly: true });
  await store.open();
  try {
    return (await store.query({ kind: 'decision', limit: 1000 })).map((r) => JSON.parse(r.body!));
  } finally {
    await store.close();
  }
}

async function refusalRecord(reason: RegExp): Promise<Record<string, unknown> & { detail?: Record<string, unknown>; args?: Record<string, unknown> }> {
  const found = (await decisions()).filter((d) => d.verdict === 'deny' && reason.test(String(d.detail?.reason)));
  assert.equal(found.length, 1, `one denial whose reason matches ${reason}`);
  return found[0]!;
}

describe('refused calls are recorded, with the reason', () => {
  test('arguments holding 1e400 (Infinity after JSON.parse): -32602 naming the field, a denial recorded with a placeholder for the arguments, upstream not called, one log line', async () => {
    const calls = probe.log.calls.length;
    const { answer } = await callRaw('{"tag":"inf","steps":1e400}');
    assert.deepEqual(answer.error, { code: -32602, message: 'Invalid params: arguments hold a number JSON cannot represent (Infinity) at /steps' });
    assert.equal(probe.log.calls.length, calls, 'the upstream was not called');
    const record = await refusalRecord(/Infinity/);
    assert.deepEqual(record.detail, { outcome: 'refused', reason: 'arguments hold a number JSON cannot represent (Infinity) at /steps' });
    assert.deepEqual(record.args, { _refused: 'arguments hold a number JSON cannot represent (Infinity) at /steps' });
    assert.equal(record.tool, 'crm__count');
    await waitFor(
      () =>
        lines.find(
          (l) =>
            l ===
            `warn refused tools/call crm__count: arguments hold a number JSON cannot represent (Infinity) at /steps (agent anonymous, request ${record.request}, session ${sid})`,
        ),
      {
        what: 'the refusal line in the log',
      },
    );
  });

  test('arguments nested 5,000 levels deep: -32602 naming the limit (64), a denial recorded, no stack overflow anywhere, upstream not called', async () => {
    const calls = probe.log.calls.length;
    const { answer } = await callRaw(`{"tag":"deep","steps":1,"deep":${'['.repeat(5000)}${']'.repeat(5000)}}`);
    assert.equal(answer.error?.code, -32602);
    assert.match(answer.error!.message, /^Invalid params: arguments are nested deeper than 64 levels at \/deep\/0\/0\//);
    assert.equal(probe.log.calls.length, calls, 'the upstream was not called');
    const record = await refusalRecord(/nested deeper than 64 levels/);
    assert.equal(record.detail?.outcome, 'refused');
    assert.ok(!lines.some((l) => /Maximum call stack/.test(l)), lines.join('\n'));
  });

  test('an object nested 5,000 levels deep under an unknown key: refused for its depth before the schema check, recorded', async () => {
    const { answer } = await callRaw(`{"tag":"deep-object","steps":1,"x":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`);
    assert.match(answer.error?.message ?? '', /^Invalid params: arguments are nested deeper than 64 levels at \/x\/a\/a\//);
    const denials = (await decisions()).filter((d) => d.verdict === 'deny' && String(d.detail?.reason).includes('at /x/a/a/'));
    assert.equal(denials.length, 1);
  });

  test('a string holding a lone surrogate (\\ud800, valid JSON escape, not representable in the record): -32602, recorded', async () => {
    const calls = probe.log.calls.length;
    const { answer } = await callRaw('{"tag":"\\ud800","steps":1}');
    assert.deepEqual(answer.error, { code: -32602, message: 'Invalid params: arguments hold a string with a lone surrogate (not valid in JSON text) at /tag' });
    assert.equal(probe.log.calls.length, calls);
    await refusalRecord(/lone surrogate/);
  });

  test('a stage throws (the credential stand-in): -32603 naming the step and the request id, not the error text; a denial linked to the allow decision, naming the step and error', async () => {
    const calls = probe.log.calls.length;
    const { answer } = await callRaw('{"tag":"explode","steps":1}');
    assert.equal(answer.error?.code, -32603);
    assert.match(answer.error!.message, /^toolgate could not complete the credential step for this call, so it was not forwarded \(request [0-9a-f-]{36}\)$/);
    assert.ok(!answer.error!.message.includes('exploded'), 'the error text stays in the gateway');
    assert.equal(probe.log.calls.length, calls, 'the upstream was not called');
    const all = await decisions();
    const refusal = all.find((d) => d.verdict === 'deny' && d.detail?.stage === 'credential')!;
    assert.equal(refusal.detail?.reason, 'the credential step failed: signer exploded at /internal/path/key.pem');
    const allowed = all.find((d) => d.request === refusal.request && d.verdict === 'allow')!;
    assert.ok(allowed, 'the allow decision was recorded first');
    assert.equal((refusal.links as { decision: { position: number } }).decision.position, allowed.seq, 'the denial links to the allow decision');
  });

  test('the control: a call with finite, shallow arguments goes through; the whole log still verifies', async () => {
    const calls = probe.log.calls.length;
    const { answer } = await callRaw(`{"tag":"fine","steps":1}`);
    assert.equal(answer.error, undefined);
    assert.equal(probe.log.calls.length, calls + 1);
    const store = new SqliteAuditStore(join(home.path, 'audit.db'), { readonly: true });
    await store.open();
    try {
      const report = await verifyStore(store, trustedKeys(await store.publicKeys()));
      assert.equal(report.ok, true, JSON.stringify(report.finding));
    } finally {
      await store.close();
    }
  });
});
