import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startCrmServer } from '../../examples/crm/server.js';
import { loadConfig } from '../config/load.js';
import { type RunningGateway, StartupError, startGateway } from '../gateway.js';
import { examplePoliciesDir } from '../policy/examples.js';
import { type DemoAuthorizationServer, startDemoAuthorizationServer } from './demo-authorization-server.js';
import { untilSignal } from './serve.js';
import { cliCommand, DEMO_USERS } from './token.js';
import { asksForHelp } from './usage.js';

const USAGE = `usage: toolgate demo [--port PORT] [--crm-port PORT] [--auth-port PORT]
  --port PORT        the gateway's port on 127.0.0.1 (default 7420)
  --crm-port PORT    the example CRM server's port on 127.0.0.1 (default 7421)
  --auth-port PORT   the demo authorization server's port on 127.0.0.1 (default 7422)
The HR server runs over stdio, spawned by the gateway. State and the demo config go to ./.toolgate.
`;

/** The demo world's agents (examples/policies name them): pre-registered clients of its authorization server. */
export const DEMO_AGENTS = ['sales-bot', 'hr-assistant', 'report-bot', 'cleanup-bot'];

/** Every scope the demo gateway understands: the upstreams' baselines, and what policies and per-call tokens name. */
export const DEMO_SCOPES = ['crm.read', 'crm.write', 'crm.admin', 'hr.employee.read', 'hr.employee.write'];

export interface DemoOptions {
  /** 0: any free port (tests). */
  port: number;
  crmPort: number;
  authPort: number;
  /** Where state and the demo config go (default ./.toolgate). */
  home: string;
}

export interface RunningDemo {
  gateway: RunningGateway;
  crmUrl: string;
  authorizationServer: DemoAuthorizationServer;
  close(): Promise<void>;
}

/**
 * `toolgate demo`: the example enterprise on loopback — the CRM server (Streamable HTTP), the
 * HR server (stdio, spawned by the gateway), the demo's authorization server, and the gateway
 * in front of both servers trusting that authorization server (and the development issuer of
 * `toolgate token`).
 */
export async function runDemo(args: string[]): Promise<number> {
  if (asksForHelp(args)) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string', default: '7420' },
      'crm-port': { type: 'string', default: '7421' },
      'auth-port': { type: 'string', default: '7422' },
    },
    strict: true,
  });
  let demo: RunningDemo;
  try {
    demo = await startDemo({ port: Number(values.port), crmPort: Number(values['crm-port']), authPort: Number(values['auth-port']), home: resolve('.toolgate') });
  } catch (err) {
    if (err instanceof StartupError || (err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      process.stderr.write(`toolgate demo: ${(err as Error).message}\n`);
      return 1;
    }
    throw err;
  }
  process.stdout.write(tryThis(demo.gateway.url, demo.authorizationServer.issuer));
  await untilSignal();
  await demo.close();
  return 0;
}

/** Starts the demo world: what `toolgate demo` runs, for tests too (ports 0, a temporary home). */
export async function startDemo(o: DemoOptions): Promise<RunningDemo> {
  // The CRM checks toolgate's per-call token on every call (@toolgate/verify), and logs who it was for.
  // Its JWKS URL names the gateway's port, so with port 0 the gateway's port is fixed first.
  const port = o.port === 0 ? await freeLoopbackPort() : o.port;
  const crm = await startCrmServer({
    host: '127.0.0.1',
    port: o.crmPort,
    // Used token ids are kept in the demo's home (a replayed per-call token is refused even after a restart).
    verify: { jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`, replayFile: join(o.home, 'crm-used-jti') },
    log: (line) => process.stderr.write(`${line}\n`),
  });
  // The gateway's resource URI is known once it listens; the authorization server asks for it per request.
  const resource = { url: `http://127.0.0.1:${port}/mcp` };
  let authorizationServer: DemoAuthorizationServer;
  try {
    authorizationServer = await startDemoAuthorizationServer({
      host: '127.0.0.1',
      port: o.authPort,
      stateFile: join(o.home, 'demo-authorization-server.json'),
      resource: () => resource.url,
      scopes: DEMO_SCOPES,
      users: DEMO_USERS,
      agents: DEMO_AGENTS,
    });
  } catch (err) {
    await crm.close();
    throw err;
  }
  // The demo's config is written to .toolgate/demo.yaml (paths in it relative to that folder),
  // so the CLI can read what the demo runs: `toolgate report usage --config .toolgate/demo.yaml`.
  const configFile = join(o.home, 'demo.yaml');
  mkdirSync(o.home, { recursive: true });
  writeFileSync(
    configFile,
    demoConfig({ port, crmUrl: crm.url, hr: exampleCommand('hr'), policies: examplePoliciesDir(), issuer: authorizationServer.issuer, hrReplayFile: join(o.home, 'hr-used-jti') }),
  );
  let gateway: RunningGateway;
  try {
    gateway = await startGateway(loadConfig(configFile), { home: o.home });
  } catch (err) {
    await authorizationServer.close();
    await crm.close();
    throw err;
  }
  resource.url = gateway.url;
  return {
    gateway,
    crmUrl: crm.url,
    authorizationServer,
    async close() {
      await gateway.close();
      await authorizationServer.close();
      await crm.close();
    },
  };
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolvePort(port));
    });
  });
}

/**
 * The demo gateway's config. The per-call token of each upstream carries only the scopes its
 * tool needs (the service account behind the upstream, narrowed per call); `toolgate report
 * scopes` shows which of them allowed calls ever needed.
 */
export function demoConfig(o: { port: number; crmUrl: string; hr: { command: string; args: string[] }; policies: string; issuer?: string; hrReplayFile?: string }): string {
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
    // Two trusted issuers: the demo's authorization server (what OAuth clients such as the MCP
    // Inspector or mcp-remote sign in with; listed in the protected-resource metadata), and the
    // development issuer: a local Ed25519 key in .toolgate/dev-issuer.json that `toolgate token`
    // signs with. Only the demo (or a config that asks) turns the latter on.
    'auth:',
    ...(o.issuer ? ['  issuers:', `    - issuer: ${o.issuer}`, '      algorithms: [RS256]'] : []),
    `  scopes_supported: [${DEMO_SCOPES.join(', ')}]`,
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

function tryThis(url: string, issuer: string): string {
  const h = `-H 'content-type: application/json' -H 'accept: application/json, text/event-stream'`;
  const cli = cliCommand();
  return `
toolgate demo is running.

  gateway   ${url}
  upstreams crm (Streamable HTTP, tools prefixed crm__), hr (stdio, tools prefixed hr__)
  health    ${url.replace(/\/mcp$/, '')}/readyz
  sign-in   ${issuer} (OAuth 2.1 authorization server: code + PKCE, client credentials,
            dynamic registration; users alice, bob, carol; agents ${DEMO_AGENTS.join(', ')};
            their client secrets are in .toolgate/demo-authorization-server.json)

An OAuth MCP client finds the authorization server by itself (401 → protected-resource
metadata → ${issuer}) and signs in; e.g. mcp-remote, signing in as alice without a page:

  npx mcp-remote ${url} --authorize-param login_hint=alice

Or with curl (2025-11-25 protocol):

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

  # 5. the same from the authorization server: a client-credentials token for report-bot
  SECRET=$(node -p 'require("./.toolgate/demo-authorization-server.json").secrets["report-bot"]')
  curl -s -u "report-bot:$SECRET" ${issuer}/token -d grant_type=client_credentials \
    -d resource=${url} -d scope=crm.read

Ctrl-C stops everything.
`;
}
