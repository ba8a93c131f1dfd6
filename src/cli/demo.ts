import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startCrmServer } from '../../examples/crm/server.js';
import { loadConfig } from '../config/load.js';
import { type RunningGateway, StartupError, startGateway } from '../gateway.js';
import { examplePoliciesDir } from '../policy/examples.js';
import { untilSignal } from './serve.js';
import { cliCommand } from './token.js';
import { asksForHelp } from './usage.js';

const USAGE = `usage: toolgate demo [--port PORT] [--crm-port PORT]
  --port PORT       the gateway's port on 127.0.0.1 (default 7420)
  --crm-port PORT   the example CRM server's port on 127.0.0.1 (default 7421)
The HR server runs over stdio, spawned by the gateway. State and the demo config go to ./.toolgate.
`;

/**
 * `toolgate demo`: the example enterprise on loopback — the CRM server (Streamable HTTP), the
 * HR server (stdio, spawned by the gateway) and the gateway in front of both.
 */
export async function runDemo(args: string[]): Promise<number> {
  if (asksForHelp(args)) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { values } = parseArgs({
    args,
    options: { port: { type: 'string', default: '7420' }, 'crm-port': { type: 'string', default: '7421' } },
    strict: true,
  });
  const port = Number(values.port);
  const crmPort = Number(values['crm-port']);
  // The CRM checks toolgate's per-call token on every call (@toolgate/verify), and logs who it was for.
  const crm = await startCrmServer({
    host: '127.0.0.1',
    port: crmPort,
    verify: { jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json` },
    log: (line) => process.stderr.write(`${line}\n`),
  });
  // The demo's config is written to .toolgate/demo.yaml (paths in it relative to that folder),
  // so the CLI can read what the demo runs: `toolgate report usage --config .toolgate/demo.yaml`.
  const home = resolve('.toolgate');
  const configFile = join(home, 'demo.yaml');
  mkdirSync(home, { recursive: true });
  writeFileSync(configFile, demoConfig({ port, crmUrl: crm.url, hr: exampleCommand('hr'), policies: examplePoliciesDir() }));
  let gateway: RunningGateway;
  try {
    gateway = await startGateway(loadConfig(configFile), { home });
  } catch (err) {
    await crm.close();
    if (err instanceof StartupError) {
      process.stderr.write(`toolgate demo: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  process.stdout.write(tryThis(gateway.url));
  await untilSignal();
  await gateway.close();
  await crm.close();
  return 0;
}

/**
 * The demo gateway's config. The per-call token of each upstream carries only the scopes its
 * tool needs (the service account behind the upstream, narrowed per call); `toolgate report
 * scopes` shows which of them allowed calls ever needed.
 */
export function demoConfig(o: { port: number; crmUrl: string; hr: { command: string; args: string[] }; policies: string; hrReplayFile?: string }): string {
  const crmWrites = [
    'create_company',
    'create_contact',
    'create_deal',
    'create_note',
    'create_task',
    'update_company',
    'update_contact',
    'update_deal',
    'update_deal_stage',
    'update_note',
    'update_task',
    'write_contact',
    'merge_contacts',
    'add_note',
    'complete_task',
    'bulk_email',
  ];
  const crmDeletes = ['delete_company', 'delete_contact', 'delete_deal', 'delete_note', 'delete_task'];
  return [
    '# Written by `toolgate demo` on every start; paths are relative to this folder.',
    'listener:',
    '  host: 127.0.0.1',
    `  port: ${o.port}`,
    // The development issuer: a local Ed25519 key in .toolgate/dev-issuer.json that
    // `toolgate token` signs with. Only the demo (or a config that asks) turns it on.
    'auth:',
    '  dev_issuer: true',
    '  dev_issuer_file: dev-issuer.json',
    // Per-call credentials: each allowed call gets its own short-lived token for its upstream,
    // signed with the key in .toolgate/signing-keys.json (created on first run).
    'credentials:',
    '  keys: { file: signing-keys.json }',
    'audit:',
    '  path: audit.db',
    '  keys: keys',
    'upstreams:',
    '  - id: crm',
    `    url: ${o.crmUrl}`,
    '    scopes: [crm.read]',
    '    credential:',
    '      scopes:',
    '        "*": [crm.read]',
    ...crmWrites.map((t) => `        ${t}: [crm.write]`),
    ...crmDeletes.map((t) => `        ${t}: [crm.admin]`),
    '  - id: hr',
    `    command: ${JSON.stringify(o.hr.command)}`,
    `    args: ${JSON.stringify(o.hr.args)}`,
    // The HR server verifies toolgate's per-call token too (carried in _meta on stdio).
    // Used token ids: .toolgate/hr-used-jti under its working directory unless told otherwise.
    `    env: { TOOLGATE_JWKS_URL: "http://127.0.0.1:${o.port}/.well-known/jwks.json"${o.hrReplayFile ? `, TOOLGATE_REPLAY_FILE: ${JSON.stringify(o.hrReplayFile)}` : ''} }`,
    '    scopes: [hr.employee.read]',
    '    credential:',
    '      scopes: { "*": [hr.employee.read], update_salary: [hr.employee.write], terminate_employee: [hr.employee.write] }',
    // The demo's four policies (examples/policies), Cedar, decided per call; tool definitions pinned.
    'policy:',
    `  files: ${JSON.stringify(o.policies)}`,
    '  time_zone: Europe/Berlin',
    '  pinning: { first_run: approve, store: pins.json }',
    '',
  ].join('\n');
}

/** How to run an example server: the compiled file when built, the TypeScript source under tsx otherwise. */
export function exampleCommand(name: string): { command: string; args: string[] } {
  const compiled = fileURLToPath(new URL(`../../examples/${name}/server.js`, import.meta.url));
  if (existsSync(compiled)) return { command: process.execPath, args: [compiled] };
  const source = fileURLToPath(new URL(`../../examples/${name}/server.ts`, import.meta.url));
  return { command: process.execPath, args: ['--import', 'tsx', source] };
}

function tryThis(url: string): string {
  const h = `-H 'content-type: application/json' -H 'accept: application/json, text/event-stream'`;
  const cli = cliCommand();
  return `
toolgate demo is running.

  gateway   ${url}
  upstreams crm (Streamable HTTP, tools prefixed crm__), hr (stdio, tools prefixed hr__)
  health    ${url.replace(/\/mcp$/, '')}/readyz

Try it (2025-11-25 protocol; any MCP client works too, e.g. the MCP Inspector):

  # 0. get a token from the development issuer (sales-bot acting for alice)
  TOKEN=$(${cli} token --agent sales-bot --user alice --scope "crm.read crm.write")
  AUTH="authorization: Bearer $TOKEN"

  # 1. open a session and keep its id (without the header: 401 and where to get a token)
  SID=$(curl -s -D - -o /dev/null ${url} ${h} -H "$AUTH" \\
    -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}' \\
    | tr -d '\\r' | sed -n 's/^mcp-session-id: //ip')

  # 2. list the tools: only crm__… (the token lacks hr.employee.read, hr's baseline scope)
  curl -s ${url} ${h} -H "$AUTH" -H "mcp-session-id: $SID" -d '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'

  # 3. call a CRM tool (allowed), then an HR tool (403 insufficient_scope, scope="hr.employee.read")
  curl -s ${url} ${h} -H "$AUTH" -H "mcp-session-id: $SID" \\
    -d '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"crm__search_contacts","arguments":{"tenant":"acme","query":"a"}}}'
  curl -si ${url} ${h} -H "$AUTH" -H "mcp-session-id: $SID" \\
    -d '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"hr__read_employee","arguments":{"tenant":"acme","employee_id":"E1002"}}}'

  # 4. a token for an HR assistant acting for bob (use it as in steps 1-3 for hr__ tools)
  ${cli} token --agent hr-assistant --user bob --scope hr.employee.read

Ctrl-C stops everything.
`;
}
