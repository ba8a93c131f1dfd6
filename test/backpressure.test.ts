/**
 * Slow SSE readers: a client that asks for a stream of 40,000 progress notifications of 10 KB
 * (400 MB) and stops reading must not make the gateway hold them. The gateway runs as its own
 * process (`toolgate serve`, from source under tsx) so its resident memory can be read from
 * /proc; the upstream is an SDK server (test/fixtures/flood-server.ts) over Streamable HTTP
 * (the gateway pauses reading its stream) and over stdio (one pipe for all calls cannot be
 * paused: past `stream_buffer_bytes` the call is cancelled and the client told why).
 *
 * Figures seen on a shared 2-core machine are stated in the bound below; the bound is
 * generous so that the test is about "bounded" against "linear in the stream" (the same run
 * without backpressure grew by more than 400 MB), not about exact numbers.
 */

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, request } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SqliteAuditStore } from '../src/audit/sqlite-store.js';
import { type FloodServer, startFloodServer } from './fixtures/flood-server.js';
import { fixtureCommand } from './support/fixture-command.js';
import { MCP_HEADERS, openSession } from './support/gateway.js';
import { tempHome } from './support/temp-home.js';
import { waitFor } from './support/wait-for.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const COUNT = 40_000;
const BYTES = 10 * 1024;
/** Growth of the gateway's RSS over its warmed-up baseline that the whole test must stay under. */
const RSS_GROWTH_BOUND_MB = 96;

const home = tempHome();
const floodLog = join(home.path, 'flood.log');
let flood: FloodServer;
let gateway: { child: ChildProcess; url: string };
let other: Client;
let baselineKb = 0;
let peakKb = 0;
let sampler: NodeJS.Timeout | undefined;

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

function serve(config: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--config', config], {
    cwd: ROOT,
    env: { ...process.env, TOOLGATE_HOME: home.path },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) resolve({ child, url: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${err}`)));
  });
}

before(async () => {
  flood = await startFloodServer();
  const pipe = fixtureCommand('flood-server');
  const config = join(home.path, 'toolgate.yaml');
  writeFileSync(
    config,
    `listener:
  port: 0
upstreams:
  - id: web
    url: ${flood.url}
  - id: pipe
    command: ${JSON.stringify(pipe.command)}
    args: ${JSON.stringify([...pipe.args, '--stdio'])}
    env: { FLOOD_LOG: ${JSON.stringify(floodLog)} }
`,
  );
  gateway = await serve(config);
  other = new Client({ name: 'other', version: '1' });
  await other.connect(new StreamableHTTPClientTransport(new URL(gateway.url)));
  await waitFor(async () => (await other.listTools()).tools.length === 4, { what: 'both upstreams listed' });
  // Warm up both paths once, then take the baseline the bound is measured from.
  for (const name of ['web__echo', 'pipe__echo']) await other.callTool({ name, arguments: { text: 'warm' } });
  baselineKb = rssKb(gateway.child.pid!);
  peakKb = baselineKb;
  sampler = setInterval(() => {
    try {
      peakKb = Math.max(peakKb, rssKb(gateway.child.pid!));
    } catch {
      // the process is gone (after the test)
    }
  }, 20);
});

after(async () => {
  clearInterval(sampler);
  await other?.close().catch(() => undefined);
  if (gateway && gateway.child.exitCode === null) {
    const exited = new Promise((r) => gateway.child.once('exit', r));
    gateway.child.kill('SIGTERM');
    await exited;
  }
  await flood?.close();
  home.remove();
});

/** POSTs a tools/call and resolves with the response, not read: its body stays paused. */
function callUnread(sid: string, name: string): Promise<IncomingMessage> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name, arguments: { count: COUNT, bytes: BYTES }, _meta: { progressToken: 'slow' } } });
  return new Promise((resolve, reject) => {
    const req = request(gateway.url, { method: 'POST', headers: { ...MCP_HEADERS, 'mcp-session-id': sid, 'content-length': Buffer.byteLength(body) } }, resolve);
    req.on('error', reject);
    req.end(body);
  });
}

/** Reads an SSE response to its end: how many progress notifications came, and the final message. */
function readStream(
  res: IncomingMessage,
): Promise<{ progress: number; final: { result?: { content: Array<{ text: string }> }; error?: { code: number; message: string; data?: unknown } } }> {
  return new Promise((resolve, reject) => {
    let progress = 0;
    let final: unknown;
    let pending = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      pending += chunk;
      let end = pending.indexOf('\n\n');
      while (end >= 0) {
        const event = pending.slice(0, end);
        pending = pending.slice(end + 2);
        end = pending.indexOf('\n\n');
        const data = event.split('\n').find((l) => l.startsWith('data: '));
        if (!data || data.length <= 6) continue;
        const message = JSON.parse(data.slice(6)) as { method?: string; id?: unknown };
        if (message.method === 'notifications/progress') progress++;
        else if (message.id !== undefined) final = message;
      }
    });
    res.on('end', () => resolve({ progress, final: final as never }));
    res.on('error', reject);
  });
}

async function othersServed(round: string): Promise<void> {
  for (let i = 0; i < 10; i++) {
    for (const name of ['web__echo', 'pipe__echo']) {
      const r = await other.callTool({ name, arguments: { text: `${round}-${i}` } });
      assert.equal((r.content as Array<{ text: string }>)[0]!.text, `${round}-${i}`);
    }
  }
}

function growthMb(): number {
  return (peakKb - baselineKb) / 1024;
}

test('HTTP upstream, 40,000 × 10 KB progress to a client that stops reading: the upstream is paused, others are served, RSS stays bounded, and the call completes once the client reads', {
  timeout: 180_000,
}, async (t) => {
  const sid = await openSession(gateway.url);
  const res = await callUnread(sid, 'web__flood');
  assert.equal(res.headers['content-type'], 'text/event-stream');
  // The gateway stops reading the upstream's stream, so the upstream's own response fills up.
  await waitFor(() => flood.log.blocked, { what: 'the upstream to be held back by the gateway', timeoutMs: 60_000 });
  const sentWhenPaused = flood.log.sent;
  await othersServed('while-paused');
  assert.ok(flood.log.sent < COUNT, `the flood is held back (${flood.log.sent} of ${COUNT} sent)`);
  const pausedGrowth = growthMb();
  t.diagnostic(`HTTP: paused after ${sentWhenPaused} notifications; RSS growth while paused ${pausedGrowth.toFixed(1)} MB`);
  assert.ok(pausedGrowth < RSS_GROWTH_BOUND_MB, `RSS grew by ${pausedGrowth.toFixed(1)} MB while the client did not read`);

  const { progress, final } = await readStream(res);
  assert.equal(progress, COUNT, 'every notification reached the client once it read');
  assert.equal(final.result?.content[0]?.text, `flooded ${COUNT}`);
  t.diagnostic(`HTTP: RSS baseline ${(baselineKb / 1024).toFixed(1)} MB, peak growth over the whole stream ${growthMb().toFixed(1)} MB`);
  assert.ok(growthMb() < RSS_GROWTH_BOUND_MB, `RSS grew by ${growthMb().toFixed(1)} MB over the stream`);
});

test('stdio upstream, 40,000 × 10 KB progress to a client that stops reading: past stream_buffer_bytes the call is cancelled upstream, the client gets -32029 naming the limit, RSS stays bounded, and the refusal is audited', {
  timeout: 180_000,
}, async (t) => {
  const sid = await openSession(gateway.url);
  const res = await callUnread(sid, 'pipe__flood');
  // The gateway cannot pause one call on a shared pipe: it cancels the call upstream instead.
  const line = await waitFor(() => existsSync(floodLog) && /cancelled after (\d+)/.exec(readFileSync(floodLog, 'utf8')), {
    what: 'the stdio upstream to see its flood cancelled',
    timeoutMs: 60_000,
  });
  assert.ok(Number(line[1]) < COUNT, `cancelled after ${line[1]} notifications`);
  await othersServed('after-cancel');
  const { progress, final } = await readStream(res);
  assert.ok(progress < COUNT, `${progress} notifications reached the client before the error`);
  assert.equal(final.error?.code, -32029);
  assert.match(final.error?.message ?? '', /stream_buffer_bytes/);
  assert.deepEqual(final.error?.data, { limit: 'stream_buffer_bytes', max: 1024 * 1024 });
  t.diagnostic(`stdio: cancelled upstream after ${line[1]} notifications, ${progress} reached the client; RSS peak growth ${growthMb().toFixed(1)} MB`);
  assert.ok(growthMb() < RSS_GROWTH_BOUND_MB, `RSS grew by ${growthMb().toFixed(1)} MB`);

  // The refusal is in the audit log (read after a clean stop).
  clearInterval(sampler);
  await other.close();
  const exited = new Promise((r) => gateway.child.once('exit', r));
  gateway.child.kill('SIGTERM');
  await exited;
  const store = new SqliteAuditStore(join(home.path, 'audit.db'), { readonly: true });
  await store.open();
  try {
    const records = (await store.query({ kind: 'limit', limit: 100 })).map((r) => JSON.parse(r.body!) as { detail: { outcome: string; limit: string; reason: string } });
    const refusal = records.find((r) => r.detail.limit === 'stream_buffer_bytes');
    assert.ok(refusal, `a limit record for stream_buffer_bytes among ${JSON.stringify(records)}`);
    assert.equal(refusal.detail.outcome, 'limit');
    assert.match(refusal.detail.reason, /did not read/);
  } finally {
    await store.close();
  }
});
