import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayYaml } from '../gateway/config-yaml.js';
import { type GatewayProcess, launchGateway } from '../gateway/launch.js';
import { builtStages, clientSideFor, configSectionsFor } from '../gateway/pipeline-stages.js';
import type { LoadTarget } from '../load/cell.js';
import { startBarePassThrough } from '../peer/bare-launch.js';
import { startMcpProxy } from '../peer/mcp-proxy.js';
import { type FastHttpFixture, fastStdioCommand } from '../upstreams/fast-fixture.js';

/**
 * The end-to-end scenarios: one path from the load driver to an upstream each. All run in the
 * same process tree and are measured in interleaved rounds (rounds.ts).
 *
 * - direct: the driver calls the upstream itself — the baseline.
 * - floor: a bare Node pass-through (no parsing) — what any Node HTTP hop costs here.
 * - toolgate: the gateway without auth, policy or credentials (its audit log is always on).
 * - toolgate full: the gateway with every pipeline stage built so far (pipeline-stages.ts);
 *   only listed once at least one stage exists, otherwise it equals "toolgate".
 * - peer: mcp-proxy (npm) exposing the same stdio server — no authorization at all.
 * - diagnostic: toolgate full with its audit log swapped for an in-memory sink — not a mode
 *   toolgate offers (fail closed needs the durable record); it prices the durable wait.
 */
export type PathKind = 'direct' | 'floor' | 'toolgate' | 'toolgate-full' | 'peer' | 'diagnostic';

export interface SharedUpstreams {
  fastHttp: FastHttpFixture;
  /** server-everything over HTTP, when the plan includes the SDK upstream. */
  everythingUrl?: string;
}

export interface RunningScenario {
  target: LoadTarget;
  /** Which process's RSS/CPU `target.measuredPid` is: 'toolgate', 'mcp-proxy', … */
  measured?: string;
  /** Set when the scenario runs toolgate (for stats and profiling). */
  gateway?: GatewayProcess;
  stop(): Promise<void>;
}

export interface Scenario {
  name: string;
  description: string;
  kind: PathKind;
  /** The upstream server and how the last hop reaches it. */
  upstream: 'fast-http' | 'fast-stdio' | 'everything-http';
  /** The direct scenario to compare with (same server logic). */
  direct: string;
  /** The peer proxy scenario to compare with, where one exists. */
  peer?: string;
  /** `gatewayScript`: run toolgate from another build (ab.ts); ignored by paths without toolgate. */
  start(shared: SharedUpstreams, gatewayScript?: string): Promise<RunningScenario>;
}

const FAST_TOOL = 'echo';
const EVERYTHING_TOOL = 'echo';

function gatewayScenario(name: string, upstream: Scenario['upstream'], stages: string[], description: string, peer?: string, auditInMemory = false): Scenario {
  return {
    name,
    description,
    kind: auditInMemory ? 'diagnostic' : stages.length > 0 ? 'toolgate-full' : 'toolgate',
    upstream,
    direct: upstream === 'everything-http' ? 'direct-everything' : 'direct-http',
    ...(peer ? { peer } : {}),
    async start(shared, gatewayScript) {
      const hop =
        upstream === 'fast-http'
          ? { id: 'fast', url: shared.fastHttp.url() }
          : upstream === 'fast-stdio'
            ? { id: 'fast', ...fastStdioCommand() }
            : { id: 'everything', url: shared.everythingUrl! };
      // The stages' files (certificates, keys, policies, the audit log) live in a scratch folder.
      const dir = mkdtempSync(join(tmpdir(), 'toolgate-bench-stages-'));
      const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
      try {
        const sections = await configSectionsFor(stages, { dir });
        const gateway = await launchGateway(
          { yaml: gatewayYaml([hop], sections), stages, home: dir, ...(auditInMemory ? { auditInMemory } : {}) },
          gatewayScript ? { script: gatewayScript } : {},
        );
        const tool = `${hop.id}__${upstream === 'everything-http' ? EVERYTHING_TOOL : FAST_TOOL}`;
        const { headers, tls } = await clientSideFor(stages, { dir, url: gateway.url });
        const target = { url: gateway.url, tools: [tool], headers, ...(tls ? { tls } : {}), measuredPid: gateway.pid };
        return { target, measured: 'toolgate', gateway, stop: () => gateway.stop().finally(removeDir) };
      } catch (err) {
        removeDir();
        throw err;
      }
    },
  };
}

/** Every scenario of a run, in a stable order; `withEverything` adds the SDK upstream pair. */
export function scenarios(withEverything: boolean): Scenario[] {
  const full = builtStages().map((s) => s.name);
  const list: Scenario[] = [
    {
      name: 'direct-http',
      description: 'driver → fast fixture (HTTP)',
      kind: 'direct',
      upstream: 'fast-http',
      direct: 'direct-http',
      async start(shared) {
        return { target: { url: shared.fastHttp.url(), tools: [FAST_TOOL] }, stop: async () => undefined };
      },
    },
    {
      name: 'floor-http',
      description: 'driver → bare Node pass-through (undici) → fast fixture (HTTP)',
      kind: 'floor',
      upstream: 'fast-http',
      direct: 'direct-http',
      async start(shared) {
        const bare = await startBarePassThrough(shared.fastHttp.url());
        return { target: { url: bare.url, tools: [FAST_TOOL], measuredPid: bare.child.pid }, measured: 'bare pass-through', stop: () => bare.stop() };
      },
    },
    gatewayScenario('toolgate-http', 'fast-http', [], 'driver → toolgate (no auth, policy or credentials; the audit log is always on) → fast fixture (HTTP)'),
    gatewayScenario('toolgate-stdio', 'fast-stdio', [], 'driver → toolgate (no auth, policy or credentials; the audit log is always on) → fast fixture (stdio)', 'mcp-proxy-stdio'),
    {
      name: 'mcp-proxy-stdio',
      description: 'driver → mcp-proxy (npm) → fast fixture (stdio)',
      kind: 'peer',
      upstream: 'fast-stdio',
      direct: 'direct-http',
      async start() {
        const peer = await startMcpProxy(fastStdioCommand());
        return { target: { url: peer.url, tools: [FAST_TOOL], measuredPid: peer.child.pid }, measured: `mcp-proxy ${peer.version}`, stop: () => peer.stop() };
      },
    },
  ];
  if (full.length > 0) {
    list.push(gatewayScenario('toolgate-full-http', 'fast-http', full, `driver → toolgate (${full.join(' + ')}) → fast fixture (HTTP)`));
    list.push(gatewayScenario('toolgate-full-stdio', 'fast-stdio', full, `driver → toolgate (${full.join(' + ')}) → fast fixture (stdio)`, 'mcp-proxy-stdio'));
    list.push(
      gatewayScenario(
        DURABLE_WAIT_DIAGNOSTIC,
        'fast-http',
        full,
        `diagnostic, not a toolgate mode: toolgate-full-http with the audit log in memory (no durable wait before forwarding) → fast fixture (HTTP)`,
        undefined,
        true,
      ),
    );
  }
  if (withEverything) {
    list.push({
      name: 'direct-everything',
      description: 'driver → server-everything (SDK v1, HTTP)',
      kind: 'direct',
      upstream: 'everything-http',
      direct: 'direct-everything',
      async start(shared) {
        return { target: { url: shared.everythingUrl!, tools: [EVERYTHING_TOOL] }, stop: async () => undefined };
      },
    });
    list.push(gatewayScenario('toolgate-everything', 'everything-http', full, 'driver → toolgate → server-everything (SDK v1, HTTP)'));
  }
  return list;
}

/** The full HTTP pipeline with an in-memory audit sink: what the durable decision record costs. */
export const DURABLE_WAIT_DIAGNOSTIC = 'diagnostic-full-http-audit-in-memory';

/** The scenario the targets are judged on: the full pipeline when any stage is built, else pass-through. */
export function fullPipelineScenario(upstream: 'http' | 'stdio'): string {
  return builtStages().length > 0 ? `toolgate-full-${upstream}` : `toolgate-${upstream}`;
}
