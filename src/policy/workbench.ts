/**
 * The policy layer without a listener, for the CLI (`toolgate policy validate|test|explain`):
 * connects to the configured upstreams for the live catalog, builds the same Cedar stage the
 * gateway runs, with a clock the caller sets. Pinning is left out (the CLI must not approve
 * anything as a side effect); decisions are the policy's alone.
 */
import type { GatewayConfig } from '../config/types.js';
import { ToolgateError } from '../errors.js';
import { type Logger, silentLogger } from '../log.js';
import { MemoryAuditSink } from '../pipeline/pass-through.js';
import type { Principal } from '../pipeline/stages.js';
import { UpstreamRegistry } from '../upstream/registry.js';
import { ArgumentValidator } from './arguments.js';
import { FixedClock } from './clock.js';
import { PolicyLoadError } from './errors.js';
import { CedarPolicyStage } from './stage.js';

export interface Workbench {
  registry: UpstreamRegistry;
  stage: CedarPolicyStage;
  clock: FixedClock;
  arguments: ArgumentValidator;
  close(): Promise<void>;
}

export class NoPolicySection extends ToolgateError {
  constructor(source: string) {
    super('ERR_NO_POLICY', `${source} has no policy: section`);
  }
}

/** Throws PolicyLoadError when the policies do not load; the registry is closed then. */
export async function openWorkbench(config: GatewayConfig, logger: Logger = silentLogger): Promise<Workbench> {
  if (!config.policy) throw new NoPolicySection(config.source);
  const settings = { ...config.policy };
  delete settings.pinning;
  const registry = new UpstreamRegistry(config.upstreams, { catalogChanged() {}, resourceUpdated() {}, log: (level, m) => logger.log(level, m) });
  await registry.start();
  const clock = new FixedClock(new Date());
  try {
    const stage = new CedarPolicyStage(settings, { catalog: registry.catalog, clock, audit: new MemoryAuditSink(), logger, upstreams: config.upstreams.map((u) => u.id) });
    stage.load();
    return { registry, stage, clock, arguments: new ArgumentValidator(settings.maxArgumentBytes), close: () => registry.close() };
  } catch (err) {
    const down = config.upstreams.filter((u) => registry.get(u.id)?.state !== 'ready').map((u) => u.id);
    await registry.close();
    // The schema is built from the live catalog: policies naming a down upstream's tools name nothing.
    if (err instanceof PolicyLoadError && down.length > 0) {
      throw new PolicyLoadError(
        err.code,
        err.file,
        err.line,
        err.column,
        `${err.reason} (upstream ${down.join(', ')} did not answer, so its tools are missing from the schema: start it and try again)`,
      );
    }
    throw err;
  }
}

export interface PrincipalSpec {
  agent: string;
  user?: string;
  tenant?: string;
  scopes?: string[] | string;
}

export function principalOf(p: PrincipalSpec): Principal {
  const scopes = Array.isArray(p.scopes) ? p.scopes : (p.scopes ?? '').split(/\s+/).filter(Boolean);
  return { agent: p.agent, ...(p.user ? { user: p.user } : {}), ...(p.tenant ? { tenant: p.tenant } : {}), scopes, bindingKey: p.agent, anonymous: false };
}
