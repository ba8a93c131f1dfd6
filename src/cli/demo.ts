import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseConfig } from '../config/load.js';
import { startGateway, StartupError } from '../gateway.js';
import { startCrmServer } from '../../examples/crm/server.js';
import { untilSignal } from './serve.js';

/**
 * `toolgate demo`: the example enterprise on loopback — the CRM server (Streamable HTTP), the
 * HR server (stdio, spawned by the gateway) and the gateway in front of both.
 */
export async function runDemo(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { port: { type: 'string', default: '7420' }, 'crm-port': { type: 'string', default: '7421' } },
    strict: true,
  });
  const port = Number(values.port);
  const crmPort = Number(values['crm-port']);
  const crm = await startCrmServer({ host: '127.0.0.1', port: crmPort });
  const hr = exampleCommand('hr');
  const yaml = [
    'listener:',
    `  port: ${port}`,
    'upstreams:',
    '  - id: crm',
    `    url: ${crm.url}`,
    '  - id: hr',
    `    command: ${JSON.stringify(hr.command)}`,
    `    args: ${JSON.stringify(hr.args)}`,
  ].join('\n');
  let gateway;
  try {
    gateway = await startGateway(parseConfig(yaml, 'demo config'));
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

/** How to run an example server: the compiled file when built, the TypeScript source under tsx otherwise. */
export function exampleCommand(name: string): { command: string; args: string[] } {
  const compiled = fileURLToPath(new URL(`../../examples/${name}/server.js`, import.meta.url));
  if (existsSync(compiled)) return { command: process.execPath, args: [compiled] };
  const source = fileURLToPath(new URL(`../../examples/${name}/server.ts`, import.meta.url));
  return { command: process.execPath, args: ['--import', 'tsx', source] };
}

function tryThis(url: string): string {
  const h = `-H 'content-type: application/json' -H 'accept: application/json, text/event-stream'`;
  return `
toolgate demo is running.

  gateway   ${url}
  upstreams crm (Streamable HTTP, tools prefixed crm__), hr (stdio, tools prefixed hr__)
  health    ${url.replace(/\/mcp$/, '')}/readyz

Try it (2025-11-25 protocol; any MCP client works too, e.g. the MCP Inspector):

  # 1. open a session and keep its id
  SID=$(curl -s -D - -o /dev/null ${url} ${h} \\
    -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}' \\
    | tr -d '\\r' | sed -n 's/^mcp-session-id: //ip')

  # 2. list the tools of both upstreams
  curl -s ${url} ${h} -H "mcp-session-id: $SID" -d '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'

  # 3. call a CRM tool and an HR tool through the gateway
  curl -s ${url} ${h} -H "mcp-session-id: $SID" \\
    -d '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"crm__search_contacts","arguments":{"tenant":"acme","query":"a"}}}'
  curl -s ${url} ${h} -H "mcp-session-id: $SID" \\
    -d '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"hr__read_employee","arguments":{"tenant":"acme","employee_id":"E1002"}}}'

Ctrl-C stops everything.
`;
}
