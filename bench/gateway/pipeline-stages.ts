import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GatewayOptions } from '../../src/gateway.js';
import { readDevIssuer, signDevToken } from '../../src/identity/dev-issuer.js';

/**
 * The stages the "full pipeline" scenarios switch on, in request-path order.
 *
 * Adding a stage to the benchmark is one entry here. A stage is configured in the gateway's
 * YAML (`config`: top-level sections, merged into the bench config; built in the harness, with
 * a scratch folder for the stage's files), and/or with startGateway options (`gateway`: built
 * inside the gateway process). When the client must bring something (a bearer token, a client
 * certificate), `client` says what, once the gateway is up. The full-pipeline scenarios pick up
 * every stage that has a `config` or a `gateway`; while none has, they are the pass-through
 * scenarios and the report says so.
 */
export interface PipelineStage {
  name: string;
  /** What the full pipeline uses for this stage (as bench/README.md names it). */
  planned: string;
  /** Top-level config sections for this stage (`listener` is merged key by key). */
  config?: (ctx: StageContext) => Promise<ConfigSections>;
  /** Options for startGateway, built inside the gateway process. */
  gateway?: () => Promise<Partial<GatewayOptions>>;
  /** What the load driver must bring for this stage. */
  client?: (ctx: ClientContext) => Promise<ClientSide>;
}

/** A scratch folder of one gateway launch: keys, certificates, policy files, the audit log. */
export interface StageContext {
  dir: string;
}

export interface ClientContext extends StageContext {
  /** The gateway's MCP endpoint. */
  url: string;
}

export type ConfigSections = Record<string, Record<string, unknown>>;

/** Client TLS material, PEM text. */
export interface ClientTls {
  ca: string;
  cert: string;
  key: string;
}

export interface ClientSide {
  headers?: Record<string, string>;
  tls?: ClientTls;
}

/** The agent (client certificate CN and token client_id) and user the load driver calls as. */
export const BENCH_AGENT = 'bench-agent';
export const BENCH_USER = 'bench-user';

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, a server certificate for 127.0.0.1/localhost and a client certificate for BENCH_AGENT. */
function makePki(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/O=toolgate bench/CN=bench-ca'], dir);
  const issue = (name: string, subject: string, ext: string): void => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], dir);
    openssl(
      ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-sha256', '-extfile', `${name}.ext`],
      dir,
    );
  };
  issue('server', '/O=toolgate bench/CN=toolgate.bench', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  issue('client', `/O=toolgate bench/CN=${BENCH_AGENT}`, 'extendedKeyUsage=clientAuth\n');
}

export const PIPELINE_STAGES: PipelineStage[] = [
  {
    name: 'mtls',
    planned: 'mutual TLS, identity from the client certificate',
    async config({ dir }) {
      const pki = join(dir, 'pki');
      makePki(pki);
      return {
        listener: {
          tls: { cert: join(pki, 'server.pem'), key: join(pki, 'server.key'), client_ca: join(pki, 'ca.pem'), client_certificates: 'required' },
        },
      };
    },
    async client({ dir }) {
      const pki = join(dir, 'pki');
      const read = (f: string): string => readFileSync(join(pki, f), 'utf8');
      return { tls: { ca: read('ca.pem'), cert: read('client.pem'), key: read('client.key') } };
    },
  },
  {
    name: 'identity',
    planned: 'JWT bearer token verified (development issuer, Ed25519)',
    async config({ dir }) {
      return { auth: { dev_issuer: true, dev_issuer_file: join(dir, 'dev-issuer.json') } };
    },
    async client({ dir }) {
      // The gateway wrote its audience into the file when it started; one token per client, as an agent would hold.
      const token = await signDevToken(readDevIssuer(join(dir, 'dev-issuer.json')), { agent: BENCH_AGENT, user: BENCH_USER, scopes: [], ttlSeconds: 3600 });
      return { headers: { authorization: `Bearer ${token}` } };
    },
  },
  {
    name: 'policy',
    planned: 'Cedar: one permit for the bench agent',
    async config({ dir }) {
      const folder = join(dir, 'policies');
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, 'bench.cedar'), `@id("bench-allow")\npermit (principal == Agent::"${BENCH_AGENT}", action, resource);\n`);
      return { policy: { files: folder } };
    },
  },
  {
    name: 'credentials',
    planned: 'per-call token minting (Ed25519, every upstream minted)',
    async config() {
      return { credentials: { keys: { ephemeral: true } } };
    },
  },
  {
    name: 'audit',
    planned: 'durable audit append (SQLite, fail closed)',
    async config({ dir }) {
      // Always on in the gateway; named here so the full scenarios say where it goes.
      return { audit: { store: 'sqlite', path: join(dir, 'audit.db'), keys: join(dir, 'keys'), fail_open: false } };
    },
  },
];

/** Stages that exist today and so run in the full-pipeline scenarios. */
export function builtStages(): PipelineStage[] {
  return PIPELINE_STAGES.filter((s) => s.gateway !== undefined || s.config !== undefined);
}

function stagesNamed(names: string[]): PipelineStage[] {
  return names.map((name) => {
    const stage = PIPELINE_STAGES.find((s) => s.name === name);
    if (!stage || (!stage.gateway && !stage.config)) throw new Error(`pipeline stage "${name}" is ${stage ? 'not built yet' : 'unknown'}`);
    return stage;
  });
}

/** Config sections for the named stages (run in the harness); unknown or unbuilt names are an error, never skipped. */
export async function configSectionsFor(names: string[], ctx: StageContext): Promise<ConfigSections> {
  const sections: ConfigSections = {};
  for (const stage of stagesNamed(names)) {
    if (!stage.config) continue;
    for (const [key, value] of Object.entries(await stage.config(ctx))) sections[key] = { ...(sections[key] ?? {}), ...value };
  }
  return sections;
}

/** Gateway options for the named stages (run in the gateway process). */
export async function gatewayOptionsFor(names: string[]): Promise<Partial<GatewayOptions>> {
  let options: Partial<GatewayOptions> = {};
  for (const stage of stagesNamed(names)) {
    if (stage.gateway) options = { ...options, ...(await stage.gateway()) };
  }
  return options;
}

/** What the driver brings for the named stages: headers and client TLS. */
export async function clientSideFor(names: string[], ctx: ClientContext): Promise<ClientSide> {
  let headers: Record<string, string> = {};
  let tls: ClientTls | undefined;
  for (const stage of stagesNamed(names)) {
    if (!stage.client) continue;
    const side = await stage.client(ctx);
    headers = { ...headers, ...(side.headers ?? {}) };
    if (side.tls) tls = side.tls;
  }
  return { headers, ...(tls ? { tls } : {}) };
}
