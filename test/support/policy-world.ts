/**
 * The demo world for policy tests: the example CRM (HTTP) and HR (stdio) servers behind a gateway
 * enforcing examples/policies, with a settable clock, the header identity test double, a pin
 * store in a temporary folder and the audit events in memory. Everything real except identity.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CrmServerHandle, startCrmServer } from '../../examples/crm/server.js';
import { exampleCommand } from '../../src/cli/demo.js';
import type { RunningGateway } from '../../src/gateway.js';
import { MemoryAuditSink } from '../../src/pipeline/pass-through.js';
import { FixedClock } from '../../src/policy/clock.js';
import { ADMIN_TOKEN } from './admin-status.js';
import { gatewayWith, MCP_HEADERS } from './gateway.js';
import type { HttpRpcAnswer, RpcAnswer } from './rpc-answer.js';
import { headerIdentityForTests } from './test-identity.js';

export const EXAMPLE_POLICIES = fileURLToPath(new URL('../../examples/policies/', import.meta.url));

export interface PolicyWorld {
  gateway: RunningGateway;
  crm: CrmServerHandle;
  clock: FixedClock;
  audit: MemoryAuditSink;
  /** A private copy of examples/policies the test may edit. */
  policyDir: string;
  pinStore: string;
  close(): Promise<void>;
}

/**
 * @param opts.shadowCrm when given, a shadow (candidate) set is configured: the example policies
 *   with crm.cedar rewritten by this function.
 */
export async function startPolicyWorld(
  opts: { hr?: boolean; pinning?: 'approve' | 'require'; extraYaml?: string; shadowCrm?: (text: string) => string } = {},
): Promise<PolicyWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-policy-'));
  const policyDir = join(dir, 'policies');
  // Without the HR upstream its policies name actions that do not exist (and would be refused).
  cpSync(EXAMPLE_POLICIES, policyDir, { recursive: true, filter: (src) => !src.endsWith('.yaml') && !src.endsWith('.md') && !(opts.hr === false && src.endsWith('hr.cedar')) });
  const pinStore = join(dir, 'pins.json');
  const shadowDir = join(dir, 'shadow');
  if (opts.shadowCrm) {
    cpSync(policyDir, shadowDir, { recursive: true });
    writeFileSync(join(shadowDir, 'crm.cedar'), opts.shadowCrm(readFileSync(join(shadowDir, 'crm.cedar'), 'utf8')));
  }
  const crm = await startCrmServer({ port: 0 });
  const hr = exampleCommand('hr');
  const clock = new FixedClock(new Date('2026-11-24T10:00:00Z')); // 11:00 in Berlin
  const audit = new MemoryAuditSink();
  const yaml = [
    // The operator's token, so tests can read the policy in force at /admin/status.
    'admin:',
    `  token: ${ADMIN_TOKEN}`,
    'upstreams:',
    '  - id: crm',
    `    url: ${crm.url}`,
    ...(opts.hr === false ? [] : ['  - id: hr', `    command: ${JSON.stringify(hr.command)}`, `    args: ${JSON.stringify(hr.args)}`]),
    'policy:',
    `  files: ${JSON.stringify(policyDir)}`,
    '  time_zone: Europe/Berlin',
    '  kinds:',
    '    crm: { delete: ["delete_*"], write: ["create_*", "update_*", "write_*", "merge_*", "add_*", "complete_*", "bulk_*"], default: read }',
    '    hr: { delete: ["terminate_*"], write: ["update_*"], default: read }',
    ...(opts.shadowCrm ? [`  shadow: ${JSON.stringify(shadowDir)}`] : []),
    ...(opts.pinning ? ['  pinning:', `    first_run: ${opts.pinning}`, `    store: ${JSON.stringify(pinStore)}`] : []),
    ...(opts.extraYaml ? [opts.extraYaml] : []),
  ].join('\n');
  let gateway: RunningGateway;
  try {
    gateway = await gatewayWith(yaml, { identity: headerIdentityForTests, clock, audit });
  } catch (err) {
    await crm.close();
    throw err;
  }
  return {
    gateway,
    crm,
    clock,
    audit,
    policyDir,
    pinStore,
    async close() {
      await gateway.close();
      await crm.close();
    },
  };
}

/** One MCP session as one principal (headers from `as()`), spoken over plain fetch. */
export class Session {
  private sid?: string;
  private nextId = 1;
  constructor(
    private readonly url: string,
    private readonly headers: Record<string, string>,
  ) {}

  async rpc(method: string, params?: unknown): Promise<HttpRpcAnswer> {
    if (!this.sid) await this.open();
    return this.post({ jsonrpc: '2.0', id: this.nextId++, method, ...(params === undefined ? {} : { params }) }) as Promise<HttpRpcAnswer>;
  }

  async call(name: string, args: Record<string, unknown>): Promise<HttpRpcAnswer> {
    return this.rpc('tools/call', { name, arguments: args });
  }

  async toolNames(): Promise<string[]> {
    const r = await this.rpc('tools/list');
    return (r.body.result.tools as Array<{ name: string }>).map((t) => t.name).sort();
  }

  private async open(): Promise<void> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...this.headers },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'policy-test', version: '1' } },
      }),
    });
    await res.text();
    this.sid = res.headers.get('mcp-session-id') ?? undefined;
    if (!this.sid) throw new Error(`initialize answered ${res.status} without a session`);
    await this.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }

  private async post(message: unknown): Promise<{ status: number; body: RpcAnswer | undefined }> {
    const res = await fetch(this.url, { method: 'POST', headers: { ...MCP_HEADERS, ...this.headers, 'mcp-session-id': this.sid! }, body: JSON.stringify(message) });
    const text = await res.text();
    if (!text) return { status: res.status, body: undefined };
    if ((res.headers.get('content-type') ?? '').includes('text/event-stream')) {
      const data = text
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => JSON.parse(l.slice(5)));
      return { status: res.status, body: data.find((d) => 'id' in d) ?? data.at(-1) };
    }
    return { status: res.status, body: JSON.parse(text) };
  }
}
