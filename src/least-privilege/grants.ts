/**
 * What a principal is granted, as opposed to what it did: for one tool, can the policy set allow
 * the call for *some* arguments, session and time of day? Cedar partial evaluation with
 * `context.arguments`, `context.session` and `context.time` unknown; a "maybe" counts as granted.
 * Time is unknown on purpose — a write allowed only 09:00–18:00 Berlin is granted, whatever
 * the hour the report runs — and so is the session (list-time semantics, stage.ts).
 *
 * The residuals Cedar leaves say under which condition: those reading `arguments` are the
 * argument constraints a report names, those reading `time` the time windows.
 *
 * Read by `toolgate report usage` (src/report); never on the request path.
 */
import { isAuthorizedPartial, type PolicyJson, policyToText } from '@cedar-policy/cedar-wasm/nodejs';
import type { UpstreamConfig } from '../config/types.js';
import { missingBaseline } from '../identity/server-access.js';
import type { Principal } from '../pipeline/stages.js';
import type { CatalogView } from '../policy/catalog-view.js';
import { type CedarRequest, CompiledPolicySet } from '../policy/compiled.js';
import { pruneValue, type Usage, usageOf } from '../policy/context-reads.js';
import type { ToolKind } from '../policy/kinds.js';
import { RequestBuilder } from '../policy/request.js';
import { actionIdOf, kindGroup, serverGroup } from '../policy/schema.js';
import { permitScopes } from '../policy/scope-annotation.js';
import type { PolicySettings } from '../policy/settings.js';
import { type PolicySource, readPolicies } from '../policy/source.js';

/** One policy that still decides once everything known is filled in. */
export interface Condition {
  policy: string;
  effect: 'permit' | 'forbid';
  /** What the call must meet for this policy to let it through, from Cedar's residual (what was known substituted). */
  requires: string;
}

export interface Grant {
  /** `always`: allowed whatever the unknowns; `conditional`: allowed for some of them. */
  mode: 'always' | 'conditional';
  /** Residual policies that read `context.arguments`. */
  arguments: Condition[];
  /** Residual policies that read `context.time` (and not the arguments). */
  time: Condition[];
  /** Residual policies that read only the session. */
  session: Condition[];
}

export { permitScopes };

const unknown = (name: string) => ({ __extn: { fn: 'unknown', arg: name } });

export class GrantOracle {
  private readonly set: CompiledPolicySet;
  private readonly requests: RequestBuilder;
  private readonly memo = new Map<string, Grant | undefined>();
  private readonly policies: Record<string, string>;
  /** What the set reads of the context and the agent: contexts equal in that are asked once. */
  private readonly reads: { context: Usage; principal: Usage };
  /** `@scope` annotations of permit policies, by policy id. */
  readonly scopeOf: Map<string, string>;

  /** Baseline scopes per upstream: a caller without them reaches none of its tools. */
  private readonly baseline: Map<string, string[]>;

  /** Throws PolicyLoadError when the policies do not validate against the view's schema. */
  constructor(
    settings: PolicySettings,
    private readonly view: CatalogView,
    upstreams: Array<Pick<UpstreamConfig, 'id' | 'scopes'>>,
  ) {
    const sources: PolicySource[] = readPolicies(settings.files);
    this.set = new CompiledPolicySet(
      sources,
      view.schemaTools(),
      'grants',
      upstreams.map((u) => u.id),
    );
    this.baseline = new Map(upstreams.map((u) => [u.id, u.scopes ?? []]));
    this.requests = new RequestBuilder(settings);
    this.policies = Object.fromEntries(sources.map((s) => [s.id, s.text]));
    const texts = sources.map((s) => s.text);
    this.reads = { context: usageOf(texts, 'context'), principal: usageOf(texts, 'principal') };
    this.scopeOf = permitScopes(sources);
  }

  get policySetHash(): string {
    return this.set.hash;
  }

  /**
   * The grant of `upstream`'s tool `tool` (its own name) to `principal`; undefined: denied for
   * every argument, session and time, or unreachable — server access asks for the upstream's
   * baseline scopes first (the same rule as on the request path).
   */
  grant(principal: Principal, upstream: string, tool: string): Grant | undefined {
    const view = this.view.tools.get(actionIdOf(upstream, tool));
    if (!view) return undefined;
    if (missingBaseline(principal, this.baseline.get(upstream)).length > 0) return undefined;
    const request = this.requests.build(principal, view.resource, { hour: 0, minute: 0, minuteOfDay: 0, weekday: 'Mon' }, undefined, {});
    // Many users with the same tenant and scopes are one question when no policy reads the user id.
    const key = `${request.action}\u0000${request.principal.id}\u0000${JSON.stringify(pruneValue(request.entities[0]!.attrs, this.reads.principal))}\u0000${JSON.stringify(pruneValue(request.context, this.reads.context))}`;
    if (this.memo.has(key)) return this.memo.get(key);
    const answer = this.evaluate(request, view.kind, upstream, principal.agent);
    this.memo.set(key, answer);
    return answer;
  }

  private evaluate(request: CedarRequest, kind: ToolKind, upstream: string, agent: string): Grant | undefined {
    // The set was validated strictly against the schema above; here the action hierarchy is
    // given as entities instead, which spares Cedar parsing the whole schema on every question.
    const action = { uid: { type: 'Action', id: request.action }, attrs: {}, parents: [kindGroup(kind), serverGroup(upstream)].map((id) => ({ type: 'Action', id })) };
    const answer = isAuthorizedPartial({
      principal: request.principal,
      action: { type: 'Action', id: request.action },
      resource: request.resource,
      context: { ...request.context, arguments: unknown('arguments'), time: unknown('time'), session: unknown('session') },
      entities: [...request.entities, action],
      validateRequest: false,
      policies: { staticPolicies: this.policies },
    });
    if (answer.type === 'failure') throw new Error(`cedar could not evaluate ${request.action} for ${agent}: ${answer.errors[0]?.message}`);
    const r = answer.response;
    if (r.decision === 'deny') return undefined;
    const grant: Grant = { mode: r.decision === 'allow' && r.nontrivialResiduals.length === 0 ? 'always' : 'conditional', arguments: [], time: [], session: [] };
    for (const id of [...r.nontrivialResiduals].sort()) {
      const residual = r.residuals[id];
      if (!residual) continue;
      const condition: Condition = { policy: id, effect: residual.effect, requires: requirementOf(residual) };
      if (/\barguments\b/.test(condition.requires)) grant.arguments.push(condition);
      else if (/\btime\b/.test(condition.requires)) grant.time.push(condition);
      else grant.session.push(condition);
    }
    return grant;
  }
}

/**
 * The residual as the condition the call must meet, readable: Cedar's residual of
 * `forbid … unless { C }` reads `when { true && (… (!(C))) }`; this gives back `C`, with
 * `unknown("arguments")` shown as `arguments`. Anything it cannot simplify is shown negated whole.
 */
function requirementOf(policy: PolicyJson): string {
  const text = policyToText({ ...policy, annotations: {} });
  if (text.type !== 'success') return `(residual of a ${policy.effect} policy)`;
  const flat = text.text.replace(/\s+/g, ' ').trim();
  let body = /when \{ (.*) \};?$/.exec(flat)?.[1] ?? flat;
  body = body.replace(/unknown\("(\w+)"\)/g, '$1');
  for (;;) {
    if (body.startsWith('true && ')) body = body.slice(8);
    else if (wrapped(body, '(')) body = body.slice(1, -1);
    else break;
  }
  if (policy.effect === 'permit') return body;
  return wrapped(body, '!(') ? body.slice(2, -1) : `!(${body})`;
}

/** True when `text` is `open…)` with the closing parenthesis matching the opening one. */
function wrapped(text: string, open: string): boolean {
  if (!text.startsWith(open) || !text.endsWith(')')) return false;
  let depth = 0;
  for (let i = open.length - 1; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      i = text.indexOf('"', i + 1);
      while (i > 0 && text[i - 1] === '\\') i = text.indexOf('"', i + 1);
      if (i < 0) return false;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i === text.length - 1;
  }
  return false;
}
