/**
 * The demo world for staging runs (scripts/staging.ts and the tests of suggest, shadow and
 * promote): the example CRM (Streamable HTTP, verifying toolgate's per-call tokens) and HR
 * (stdio) servers behind a gateway started from `toolgate demo`'s own config, written to
 * HOME/toolgate.yaml with a private copy of examples/policies, a SQLite audit log in HOME, the
 * development issuer for tokens, and a fixed clock (policy time) the caller moves.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type CrmServerHandle, startCrmServer } from '../examples/crm/server.js';
import { demoConfig, exampleCommand } from '../src/cli/demo.js';
import { loadConfig } from '../src/config/load.js';
import { type GatewayOptions, type RunningGateway, startGateway } from '../src/gateway.js';
import { readDevIssuer, signDevToken } from '../src/identity/dev-issuer.js';
import { silentLogger } from '../src/log.js';
import { FixedClock } from '../src/policy/clock.js';
import { examplePoliciesDir } from '../src/policy/examples.js';
import { freePort } from '../test/support/free-port.js';

export interface StagingWorld {
  home: string;
  configFile: string;
  policyDir: string;
  gateway: RunningGateway;
  crm: CrmServerHandle;
  clock: FixedClock;
  /** An official MCP SDK client connected through the gateway with a dev-issuer token. */
  connect(agent: string, o?: { user?: string; tenant?: string; scopes?: string }): Promise<Client>;
  /** Stops the gateway and starts it again from the config, now with `policy.shadow` (or without). */
  restart(o: { shadow?: string }): Promise<void>;
  close(): Promise<void>;
}

export const DEMO_TENANTS: Record<string, string> = { alice: 'acme', bob: 'acme', carol: 'globex' };

export interface StagingOptions {
  home: string;
  /** Policy time, e.g. 2026-11-24T10:00:00Z (11:00 in Berlin, inside business hours). */
  clock: Date;
  shadow?: string;
  /** Lines added under `policy:` (the last section of the demo config), e.g. `agents: {…}`. */
  policyYaml?: string[];
  /** Instead of the development issuer (tests use a header identity double). */
  identity?: GatewayOptions['identity'];
}

export async function startStagingWorld(o: StagingOptions): Promise<StagingWorld> {
  mkdirSync(o.home, { recursive: true });
  const policyDir = join(o.home, 'policies');
  cpSync(examplePoliciesDir(), policyDir, { recursive: true, filter: (src) => !src.endsWith('.yaml') && !src.endsWith('.md') });
  const port = await freePort();
  // Each world keeps the examples' used token ids in its own folder (one process per replay file).
  const crm = await startCrmServer({ host: '127.0.0.1', port: 0, verify: { jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`, replayFile: join(o.home, 'crm-used-jti') } });
  const configFile = join(o.home, 'toolgate.yaml');
  const clock = new FixedClock(o.clock);
  const writeConfig = (shadow?: string): void => {
    const yaml =
      demoConfig({ port, crmUrl: crm.url, hr: exampleCommand('hr'), policies: 'policies', hrReplayFile: join(o.home, 'hr-used-jti') }) +
      (o.policyYaml ?? []).map((l) => `  ${l}\n`).join('');
    writeFileSync(configFile, shadow ? yaml.replace(/^( {2}files: .*)$/m, `$1\n  shadow: ${JSON.stringify(shadow)}`) : yaml);
  };
  const start = async (): Promise<RunningGateway> =>
    startGateway(loadConfig(configFile), { home: o.home, clock, logger: silentLogger, ...(o.identity ? { identity: o.identity } : {}) });
  writeConfig(o.shadow);
  let gateway: RunningGateway;
  try {
    gateway = await start();
  } catch (err) {
    await crm.close();
    throw err;
  }
  const clients: Client[] = [];
  const world: StagingWorld = {
    home: o.home,
    configFile,
    policyDir,
    gateway,
    crm,
    clock,
    async connect(agent, c = {}) {
      const tenant = c.tenant ?? (c.user ? DEMO_TENANTS[c.user] : undefined);
      const token = await signDevToken(readDevIssuer(join(o.home, 'dev-issuer.json')), {
        agent,
        ...(c.user ? { user: c.user } : {}),
        ...(tenant ? { tenant } : {}),
        scopes: (c.scopes ?? '').split(' ').filter(Boolean),
        ttlSeconds: 3600,
      });
      const client = new Client({ name: `${agent}-runtime`, version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(world.gateway.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
      clients.push(client);
      return client;
    },
    async restart(r) {
      await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
      await world.gateway.close();
      writeConfig(r.shadow);
      world.gateway = await start();
    },
    async close() {
      await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
      await world.gateway.close();
      await crm.close();
    },
  };
  return world;
}
