/**
 * The policy stage: Cedar decisions for every routed call, list filtering, tool pinning, shadow
 * evaluation and atomic reloads. Default deny; `forbid` beats `permit` (Cedar's semantics).
 *
 * List-time semantics (tools/list, prompts/list, resources/list, and the "is it there at all"
 * check before a call): the principal, user, scopes, tenant and clock are known; the arguments
 * and the session are not. A tool is listed when some arguments could make the call allowed
 * (Cedar partial evaluation with those two unknown); the call is then decided with the real ones.
 */
import type { Catalog } from '../catalog/catalog.js';
import type { PinStore } from '../catalog/pinning.js';
import type { Logger } from '../log.js';
import type { AuditSink, Decision, Invocation, PolicyStage, Principal, RequestContext } from '../pipeline/stages.js';
import { CatalogView } from './catalog-view.js';
import { type Clock, ZonedTime } from './clock.js';
import { type CedarRequest, CompiledPolicySet, type Evaluation } from './compiled.js';
import { ToolKinds } from './kinds.js';
import { projectArguments, RequestBuilder, type ResourceRef } from './request.js';
import { PROMPT_ACTION, RESOURCE_ACTION } from './schema.js';
import type { PolicySettings } from './settings.js';
import { type PolicySource, readPolicies } from './source.js';

export interface PolicyStatus {
  policySetHash?: string;
  policies: number;
  shadowPolicySetHash?: string;
  /** Calls where the shadow set's verdict differed from the enforced one. */
  shadowDisagreements: number;
  loadedAt?: string;
  lastReloadError?: string;
}

export interface CedarPolicyStageDeps {
  catalog: Catalog;
  clock: Clock;
  audit: AuditSink;
  logger: Logger;
  pins?: PinStore;
  /** Configured upstream ids (their `server:` action groups exist even while one is down). */
  upstreams?: string[];
}

export class CedarPolicyStage implements PolicyStage {
  readonly view: CatalogView;
  private readonly time: ZonedTime;
  private readonly requests: RequestBuilder;
  private sources: PolicySource[] = [];
  private shadowSources: PolicySource[] | undefined;
  private enforced: CompiledPolicySet | undefined;
  private shadow: CompiledPolicySet | undefined;
  private listCache = new Map<string, boolean>();
  private disagreements = 0;
  private loadedAt?: Date;
  private lastReloadError?: string;

  constructor(
    private readonly settings: PolicySettings,
    private readonly deps: CedarPolicyStageDeps,
  ) {
    this.time = new ZonedTime(settings.timeZone);
    this.requests = new RequestBuilder(settings);
    this.view = new CatalogView(deps.catalog, new ToolKinds(settings.kinds), deps.pins, settings.pinning?.firstRun ?? 'approve', deps.audit, () => deps.clock.now());
  }

  /** Reads, validates and puts the policy files in force. Throws PolicyLoadError; on error nothing changes. */
  load(): void {
    const sources = readPolicies(this.settings.files);
    const shadowSources = this.settings.shadowFiles.length > 0 ? readPolicies(this.settings.shadowFiles) : undefined;
    this.view.refresh();
    const tools = this.view.schemaTools();
    const enforced = new CompiledPolicySet(sources, tools, 'enforced', this.deps.upstreams);
    const shadow = shadowSources ? new CompiledPolicySet(shadowSources, tools, 'shadow', this.deps.upstreams) : undefined;
    // Everything compiled: swap in one step, so a call sees the old set or the new, never a mix.
    this.sources = sources;
    this.shadowSources = shadowSources;
    this.enforced = enforced;
    this.shadow = shadow;
    this.listCache = new Map();
    this.loadedAt = this.deps.clock.now();
    this.lastReloadError = undefined;
    for (const w of enforced.warnings) this.deps.logger.log('warn', `policy warning: ${w}`);
  }

  /** load() for a running gateway: a bad file is logged and the set in force stays. */
  reload(): boolean {
    try {
      this.deps.pins?.reload();
      this.load();
      this.deps.logger.log('info', `policy reloaded: ${this.enforced!.size} policies, ${this.enforced!.hash}`);
      return true;
    } catch (err) {
      this.lastReloadError = err instanceof Error ? err.message : String(err);
      this.deps.logger.log('error', `policy reload refused, previous policy set stays in force: ${this.lastReloadError}`);
      return false;
    }
  }

  /** The enforced policy with this id (for explanations). */
  source(id: string): PolicySource | undefined {
    return this.sources.find((s) => s.id === id);
  }

  status(): PolicyStatus {
    return {
      policySetHash: this.enforced?.hash,
      policies: this.enforced?.size ?? 0,
      ...(this.shadow ? { shadowPolicySetHash: this.shadow.hash } : {}),
      shadowDisagreements: this.disagreements,
      ...(this.loadedAt ? { loadedAt: this.loadedAt.toISOString() } : {}),
      ...(this.lastReloadError ? { lastReloadError: this.lastReloadError } : {}),
    };
  }

  decide(principal: Principal, invocation: Invocation, ctx: RequestContext): Decision {
    this.sync();
    const enforced = this.enforced;
    const resource = this.resourceOf(invocation.method, invocation.upstream, invocation.target, invocation.exposedName);
    if (!enforced || !resource) return { verdict: 'deny', policies: [], errors: [enforced ? 'not a governed operation' : 'no policy set in force'], policySetHash: enforced?.hash };
    if (resource.type === 'Tool' && !this.view.pinnedOk(invocation.upstream, invocation.target)) {
      return { verdict: 'deny', policies: [], errors: ['tool definition not approved (pinning)'], policySetHash: enforced.hash };
    }
    const args = resource.type === 'Tool' ? projectArguments(invocation.arguments, this.view.tools.get(resource.action)!.argumentShape as never) : {};
    const request = this.requests.build(principal, resource, this.time.at(this.deps.clock.now()), ctx, args);
    const result = enforced.evaluate(request);
    const decision: Decision = { verdict: result.verdict, policies: result.policies, errors: result.errors, policySetHash: enforced.hash };
    if (result.verdict === 'deny') {
      const missing = this.missingScopes(enforced, request, principal);
      if (missing) decision.missingScopes = missing;
    }
    if (this.shadow) decision.shadow = this.shadowOf(this.shadow, request, result);
    return decision;
  }

  mayList(principal: Principal, kind: 'tool' | 'prompt' | 'resource', upstream: string, name: string): boolean {
    this.sync();
    const enforced = this.enforced;
    if (!enforced) return false;
    if (kind === 'tool' && !this.view.pinnedOk(upstream, name)) return false;
    const resource = this.resourceOf(kind === 'tool' ? 'tools/call' : kind === 'prompt' ? 'prompts/get' : 'resources/read', upstream, name, name);
    if (!resource) return false;
    const now = this.deps.clock.now();
    const key = `${Math.floor(now.getTime() / 60_000)}|${principal.agent}|${principal.user ?? ''}|${principal.tenant ?? ''}|${principal.scopes.join(' ')}|${resource.type}|${resource.id}`;
    const cached = this.listCache.get(key);
    if (cached !== undefined) return cached;
    const answer = enforced.mayAllow(this.requests.build(principal, resource, this.time.at(now), undefined, {}));
    if (this.listCache.size > 50_000) this.listCache.clear();
    this.listCache.set(key, answer);
    return answer;
  }

  /** Picks up catalog changes (new tools, drift): recompiles the same sources against the new schema. */
  private sync(): void {
    if (!this.view.refresh() || !this.enforced) return;
    try {
      const tools = this.view.schemaTools();
      const enforced = new CompiledPolicySet(this.sources, tools, 'enforced', this.deps.upstreams);
      const shadow = this.shadowSources ? new CompiledPolicySet(this.shadowSources, tools, 'shadow', this.deps.upstreams) : undefined;
      this.enforced = enforced;
      this.shadow = shadow;
    } catch (err) {
      // The old set stays; new tools are not in its schema and so are denied (default deny).
      this.lastReloadError = `catalog changed and the policy set no longer validates: ${err instanceof Error ? err.message : String(err)}`;
      this.deps.logger.log('error', this.lastReloadError);
    }
    this.listCache = new Map();
  }

  private resourceOf(method: string, upstream: string, target: string, exposed: string): ResourceRef | undefined {
    if (method === 'tools/call') return this.view.tools.get(`${upstream}/${target}`)?.resource;
    const prompt = method === 'prompts/get' || (method === 'completion/complete' && this.deps.catalog.resolve('prompts', exposed)?.upstream === upstream);
    if (prompt) return { action: PROMPT_ACTION, type: 'Prompt', id: `${upstream}/${target}`, upstream, attrs: { upstream, name: target } };
    if (method === 'resources/read' || method === 'completion/complete') {
      return { action: RESOURCE_ACTION, type: 'Resource', id: `${upstream}/${target}`, upstream, attrs: { upstream, name: target } };
    }
    return undefined;
  }

  /**
   * For a tool hidden from this principal: the scopes (named by `@scope` on a permit) that would
   * make it callable. The router answers those with 403 insufficient_scope instead of "not found"
   * — the one case where a refusal reveals that a tool exists, as MCP authorization intends.
   */
  scopesToCall(principal: Principal, kind: 'tool' | 'prompt' | 'resource', upstream: string, name: string): string[] | undefined {
    const enforced = this.enforced;
    if (!enforced || (kind === 'tool' && !this.view.pinnedOk(upstream, name))) return undefined;
    const resource = this.resourceOf(kind === 'tool' ? 'tools/call' : kind === 'prompt' ? 'prompts/get' : 'resources/read', upstream, name, name);
    if (!resource) return undefined;
    const request = this.requests.build(principal, resource, this.time.at(this.deps.clock.now()), undefined, {});
    return fixingScopes(enforced.scopesFor(request.action), principal, (scopes) => enforced.mayAllow(withScopes(request, scopes)));
  }

  /** Scopes named by `@scope` on permits for this action that the caller lacks, if adding them would allow. */
  private missingScopes(set: CompiledPolicySet, request: CedarRequest, principal: Principal): string[] | undefined {
    return fixingScopes(set.scopesFor(request.action), principal, (scopes) => set.evaluate(withScopes(request, scopes)).verdict === 'allow');
  }

  private shadowOf(set: CompiledPolicySet, request: CedarRequest, enforced: Evaluation): NonNullable<Decision['shadow']> {
    const r = set.evaluate(request);
    if (r.verdict !== enforced.verdict) this.disagreements++;
    return { verdict: r.verdict, policies: r.policies, errors: r.errors, policySetHash: set.hash };
  }
}

function withScopes(request: CedarRequest, scopes: string[]): CedarRequest {
  return { ...request, context: { ...request.context, scopes } };
}

/** The smallest fix tried first: one lacking scope alone, then all of them together. */
function fixingScopes(named: string[], principal: Principal, allows: (scopes: string[]) => boolean): string[] | undefined {
  const lacking = named.filter((s) => !principal.scopes.includes(s));
  if (lacking.length === 0) return undefined;
  for (const s of lacking) if (allows([...principal.scopes, s])) return [s];
  return lacking.length > 1 && allows([...principal.scopes, ...lacking]) ? lacking : undefined;
}
