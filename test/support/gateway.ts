import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { type GatewayOptions, type RunningGateway, startGateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/log.js';

/** Starts a gateway on an ephemeral loopback port from a YAML fragment listing upstreams. */
export async function gatewayWith(yaml: string, options: GatewayOptions = {}): Promise<RunningGateway> {
  const text = /^listener:/m.test(yaml) ? yaml : `listener:\n  port: 0\n${yaml}`;
  // The audit log (and anything else kept in the state folder) goes to a temporary folder, removed on close.
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'toolgate-test-'));
  let gateway: RunningGateway;
  try {
    gateway = await startGateway(parseConfig(text, 'test config'), { logger: silentLogger, ...options, home });
  } catch (err) {
    if (!options.home) rmSync(home, { recursive: true, force: true });
    throw err;
  }
  const close = gateway.close.bind(gateway);
  gateway.close = async () => {
    await close();
    if (!options.home) rmSync(home, { recursive: true, force: true });
  };
  return gateway;
}

export const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** A raw initialize over fetch; returns the session id. */
export async function openSession(url: string, version = '2025-11-25'): Promise<string> {
  const res = await fetch(url, {
    method: 'POST',
    headers: MCP_HEADERS,
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'test', version: '1' } } }),
  });
  if (res.status !== 200) throw new Error(`initialize answered ${res.status}: ${await res.text()}`);
  await res.text();
  const sid = res.headers.get('mcp-session-id');
  if (!sid) throw new Error('no session id');
  await fetch(url, { method: 'POST', headers: { ...MCP_HEADERS, 'mcp-session-id': sid }, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  return sid;
}
