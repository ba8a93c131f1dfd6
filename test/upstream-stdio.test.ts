import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JsonRpcMessage } from '../src/protocol/jsonrpc.js';
import { StdioUpstreamTransport } from '../src/upstream/transport/stdio.js';
import { UpstreamTransportError } from '../src/upstream/transport/transport.js';
import { everythingEntry } from './support/servers.js';
import { Inbox } from './support/transport-inbox.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A throwaway upstream written inline: `node -e <script>`. */
function inlineNode(upstreamId: string, script: string, closeGraceMs?: number): StdioUpstreamTransport {
  return new StdioUpstreamTransport(upstreamId, { command: process.execPath, args: ['-e', script], closeGraceMs });
}

describe('StdioUpstreamTransport against server-everything (stdio)', () => {
  test('initialize, tools/list and tools/call over newline-delimited JSON; relatedTo is always undefined', async () => {
    // server-everything over stdio: `node dist/index.js stdio` (stdio is also the default).
    const transport = new StdioUpstreamTransport('everything', { command: process.execPath, args: [everythingEntry(), 'stdio'] });
    const inbox = new Inbox();
    inbox.attach(transport);
    try {
      await transport.start();
      assert.ok(transport.pid !== undefined && isAlive(transport.pid));
      await transport.send({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'toolgate-test', version: '0' } },
      });
      const init = await inbox.response(1);
      assert.ok('result' in init.message);
      assert.equal(init.message.result.protocolVersion, '2025-11-25');
      await transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });

      await transport.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
      const list = await inbox.response(2);
      assert.ok('result' in list.message);
      const names = (list.message.result.tools as Array<{ name: string }>).map((t) => t.name);
      assert.ok(names.includes('echo'), names.join(','));

      await transport.send({ jsonrpc: '2.0', id: 'c3', method: 'tools/call', params: { name: 'echo', arguments: { message: 'über ✓' } } });
      const call = await inbox.response('c3');
      assert.deepEqual(call.message, { jsonrpc: '2.0', id: 'c3', result: { content: [{ type: 'text', text: 'Echo: über ✓' }] } });

      assert.ok(inbox.received.every((r) => r.relatedTo === undefined));
      assert.deepEqual(inbox.errors, []);
      assert.ok(
        transport.recentStderr().some((line) => line.includes('Starting default (STDIO) server')),
        transport.recentStderr().join('\n'),
      );
    } finally {
      await transport.close();
    }
    assert.equal(isAlive(transport.pid!), false, 'the process is gone after close()');
    assert.deepEqual(inbox.closes, [], 'a close the owner asked for is not reported as a loss');
    await assert.rejects(transport.send({ jsonrpc: '2.0', id: 9, method: 'ping' }), { code: 'ERR_UPSTREAM_CLOSED' });
  });

  test("the process sees the configured env over a minimal inherited one, not the gateway's other variables", async () => {
    process.env.TOOLGATE_TEST_SECRET = 'must-not-leak';
    const transport = new StdioUpstreamTransport('everything', {
      command: process.execPath,
      args: [everythingEntry(), 'stdio'],
      env: { CRM_REGION: 'eu-1' },
      cwd: '/',
    });
    const inbox = new Inbox();
    inbox.attach(transport);
    try {
      await transport.start();
      await transport.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '0' } } });
      await inbox.response(1);
      await transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      await transport.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'get-env', arguments: {} } });
      const call = await inbox.response(2);
      assert.ok('result' in call.message);
      const env = JSON.parse((call.message.result.content as Array<{ text: string }>)[0]!.text) as Record<string, string>;
      assert.equal(env.CRM_REGION, 'eu-1');
      assert.equal(env.PATH, process.env.PATH);
      assert.equal(env.TOOLGATE_TEST_SECRET, undefined);
    } finally {
      delete process.env.TOOLGATE_TEST_SECRET;
      await transport.close();
    }
  });
});

describe('StdioUpstreamTransport faults', () => {
  test('a command that does not exist: start() rejects with ERR_UPSTREAM_SPAWN', async () => {
    const transport = new StdioUpstreamTransport('ghost', { command: 'toolgate-no-such-command-xyz', args: [] });
    const inbox = new Inbox();
    inbox.attach(transport);
    await assert.rejects(transport.start(), (err: unknown) => {
      assert.ok(err instanceof UpstreamTransportError);
      assert.equal(err.code, 'ERR_UPSTREAM_SPAWN');
      assert.equal(err.upstream, 'ghost');
      assert.match(err.message, /toolgate-no-such-command-xyz.*ENOENT/);
      return true;
    });
    await assert.rejects(transport.send({ jsonrpc: '2.0', id: 1, method: 'ping' }), { code: 'ERR_UPSTREAM_CLOSED' });
    await transport.close();
    assert.deepEqual(inbox.closes, []);
  });

  test('the process exits on its own: onclose says how, stderr is kept, send() rejects with ERR_UPSTREAM_CLOSED', async () => {
    const transport = inlineNode('crm', 'for (let i = 0; i < 60; i++) console.error("line " + i); console.error("fatal: no database"); process.exit(3)');
    const inbox = new Inbox();
    inbox.attach(transport);
    try {
      await transport.start();
      await inbox.until(() => inbox.closes[0], 'onclose');
      assert.deepEqual(inbox.closes, ['exited with code 3']);
      const stderr = transport.recentStderr();
      assert.equal(stderr.length, 50, 'the ring keeps the last 50 lines');
      assert.equal(stderr.at(-1), 'fatal: no database');
      assert.equal(stderr[0], 'line 11');
      await assert.rejects(transport.send({ jsonrpc: '2.0', id: 1, method: 'ping' }), (err: unknown) => {
        assert.ok(err instanceof UpstreamTransportError);
        assert.equal(err.code, 'ERR_UPSTREAM_CLOSED');
        assert.match(err.message, /exited with code 3/);
        return true;
      });
    } finally {
      await transport.close();
    }
  });

  test('a garbage line goes to onerror and is skipped; the messages around it are delivered', async () => {
    const script = [
      'process.stdout.write(\'{"jsonrpc":"2.0","method":"notifications/message","params":{"n":1}}\\n\');',
      'process.stdout.write("Listening... (a banner on stdout)\\n");',
      'process.stdout.write(\'{"jsonrpc":"2.0","id":7}\\n\');',
      // One message split over two writes, with a CRLF ending.
      'process.stdout.write(\'{"jsonrpc":"2.0","method":"notifi\'); setTimeout(() => process.stdout.write(\'cations/message","params":{"n":2}}\\r\\n\'), 20);',
      'process.stdin.resume();',
    ].join('\n');
    const transport = inlineNode('noisy', script);
    const inbox = new Inbox();
    inbox.attach(transport);
    try {
      await transport.start();
      await inbox.until(() => (inbox.received.length === 2 ? true : undefined), 'two messages');
      assert.deepEqual(
        inbox.received.map((r) => (r.message as { params: { n: number } } & JsonRpcMessage).params.n),
        [1, 2],
      );
      assert.equal(inbox.errors.length, 2);
      assert.match(inbox.errors[0]!.message, /^upstream noisy: wrote a line that is not JSON: "Listening/);
      assert.match(inbox.errors[1]!.message, /not a JSON-RPC message \(not a request, notification or response\)/);
      assert.deepEqual(inbox.closes, []);
    } finally {
      await transport.close();
    }
  });

  test('close() escalates: stdin end, then SIGTERM, then SIGKILL for a process that ignores both', async () => {
    const transport = inlineNode(
      'stubborn',
      'process.on("SIGTERM", () => console.error("ignoring SIGTERM")); process.stdin.on("end", () => console.error("stdin ended")); process.stdin.resume(); setInterval(() => {}, 1000); console.log(JSON.stringify({ jsonrpc: "2.0", method: "ready" }));',
      100,
    );
    const inbox = new Inbox();
    inbox.attach(transport);
    await transport.start();
    await inbox.until(() => inbox.received[0], 'the process to be ready');
    const pid = transport.pid!;
    await transport.close();
    assert.equal(isAlive(pid), false);
    assert.deepEqual(transport.recentStderr(), ['stdin ended', 'ignoring SIGTERM']);
  });
});
