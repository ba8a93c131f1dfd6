/**
 * One policy set put in force: validated strictly against the schema generated from the
 * catalog, pre-parsed once (set and schema) into cedar-wasm, and sliced per action — each action
 * is evaluated against only the policies whose action scope can match it, which keeps the
 * per-call cost near-constant as the set grows. Immutable: a reload builds a new one and swaps.
 */
import { createHash } from 'node:crypto';
import {
  type Context,
  type EntityJson,
  type EntityUidJson,
  isAuthorizedPartial,
  policyToJson,
  preparsePolicySet,
  preparseSchema,
  statefulIsAuthorized,
  validate,
} from '@cedar-policy/cedar-wasm/nodejs';
import { pruneType, pruneValue, type Usage, usageOf } from './context-reads.js';
import { PolicyLoadError } from './errors.js';
import { actionAncestors, buildSchema, type SchemaTool } from './schema.js';
import { permitScope } from './scope-annotation.js';
import { fromCedarError, type PolicySource } from './source.js';

export interface CedarRequest {
  principal: EntityUidJson & { type: string; id: string };
  action: string;
  resource: EntityUidJson & { type: string; id: string };
  context: Context;
  entities: EntityJson[];
}

export interface Evaluation {
  verdict: 'allow' | 'deny';
  policies: string[];
  errors: string[];
}

interface Slice {
  id: string;
  policies: Record<string, string>;
  /** Scopes named by `@scope("…")` on permit policies of this slice. */
  scopes: string[];
  /** Whether any policy of the slice reads `context.arguments` (list-time needs partial evaluation then). */
  readsArguments: boolean;
  /** What the slice's policies read; only that is passed to Cedar, against a schema trimmed to match. */
  context: Usage;
  principal: Usage;
  resource: Usage;
  schemaName: string;
}

/**
 * cedar-wasm keeps pre-parsed sets and schemas for the life of the process (there is no way to
 * drop one), so they are named by their content: a reload, a catalog change or a slice equal to
 * another reuses what is already there instead of growing wasm memory with every reload.
 */
const alreadyParsed = new Set<string>();
function preparsed<T>(kind: string, content: T, parse: (id: string, content: T) => { type: string; errors?: Array<{ message: string }> }): string {
  const id = `${kind}:${createHash('sha256').update(JSON.stringify(content)).digest('hex')}`;
  if (alreadyParsed.has(id)) return id;
  const r = parse(id, content);
  if (r.type === 'failure') throw new Error(`cedar refused the ${kind}: ${r.errors?.[0]?.message}`);
  alreadyParsed.add(id);
  return id;
}

export class CompiledPolicySet {
  readonly hash: string;
  readonly schema: Record<string, unknown>;
  readonly warnings: string[] = [];
  private readonly slices = new Map<string, Slice>();
  private readonly emptySlice: Slice;
  readonly size: number;

  constructor(
    readonly sources: PolicySource[],
    tools: SchemaTool[],
    _label: string,
    upstreams: string[] = [],
  ) {
    this.size = sources.length;
    const record: Record<string, string> = {};
    for (const s of sources) record[s.id] = s.text;
    this.hash =
      'sha256:' +
      createHash('sha256')
        .update(JSON.stringify(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1))))
        .digest('hex');
    this.schema = buildSchema(tools, upstreams);
    this.check(record);

    const scopeOf = new Map<string, string>();
    const actionScope = new Map<string, { all: true } | { ids: string[] }>();
    for (const s of sources) {
      const json = policyToJson(s.text);
      if (json.type === 'failure') throw fromCedarError('ERR_POLICY_PARSE', s.file, s.fileText, s.offset, json.errors[0]!);
      const a = json.json.action as { op: string; entity?: { id?: string; __entity?: { id: string } }; entities?: Array<{ id?: string; __entity?: { id: string } }> };
      const idOf = (e: { id?: string; __entity?: { id: string } }) => e.id ?? e.__entity?.id ?? '';
      actionScope.set(s.id, a.op === 'All' ? { all: true } : { ids: a.entity ? [idOf(a.entity)] : (a.entities ?? []).map(idOf) });
      const scope = permitScope(json.json);
      if (scope) scopeOf.set(s.id, scope);
    }
    const byKey = new Map<string, Slice>();
    const sliceFor = (ids: string[]): Slice => {
      const key = ids.join('\u0000');
      let slice = byKey.get(key);
      if (!slice) {
        const policies: Record<string, string> = {};
        for (const id of ids) policies[id] = record[id]!;
        const texts = ids.map((id) => record[id]!);
        const context = usageOf(texts, 'context');
        const trimmed = trimmedSchema(this.schema, { context, principal: usageOf(texts, 'principal'), resource: usageOf(texts, 'resource') });
        slice = {
          id: preparsed('pset', { staticPolicies: policies }, preparsePolicySet),
          policies,
          scopes: [...new Set(ids.map((id) => scopeOf.get(id)).filter((s): s is string => !!s))],
          readsArguments: context === 'all' || context.has('arguments') || context.has('session'),
          context,
          principal: usageOf(texts, 'principal'),
          resource: usageOf(texts, 'resource'),
          schemaName: preparsed('schema', trimmed as never, preparseSchema),
        };
        byKey.set(key, slice);
      }
      return slice;
    };
    for (const [action, ancestors] of actionAncestors(tools)) {
      const ids = sources
        .filter((s) => {
          const sc = actionScope.get(s.id)!;
          return 'all' in sc || sc.ids.some((id) => ancestors.has(id));
        })
        .map((s) => s.id);
      this.slices.set(action, sliceFor(ids));
    }
    // Actions not in the catalog (yet) still see the policies that apply to every action.
    this.emptySlice = sliceFor(sources.filter((s) => 'all' in actionScope.get(s.id)!).map((s) => s.id));
  }

  /** Strict validation; the first error becomes a PolicyLoadError naming file, line and reason. */
  private check(record: Record<string, string>): void {
    const answer = validate({ schema: this.schema as never, policies: { staticPolicies: record }, validationSettings: { mode: 'strict' } });
    if (answer.type === 'failure') throw new PolicyLoadError('ERR_POLICY_INVALID', '(policy set)', 0, 0, answer.errors.map((e) => e.message).join('; '));
    const first = answer.validationErrors[0];
    if (first) {
      const s = this.sources.find((p) => p.id === first.policyId)!;
      throw fromCedarError('ERR_POLICY_INVALID', s.file, s.fileText, s.offset, first.error);
    }
    // A policy that can never apply is almost always a typo (`has tenantt`, a misspelt action):
    // Cedar only warns, toolgate refuses it, since a forbid that never applies denies nothing.
    const impossible = answer.validationWarnings.find((w) => /impossible|unable to find an applicable action/.test(w.error.message));
    if (impossible) {
      const s = this.sources.find((p) => p.id === impossible.policyId)!;
      throw fromCedarError('ERR_POLICY_INVALID', s.file, s.fileText, s.offset, impossible.error);
    }
    for (const w of answer.validationWarnings) this.warnings.push(`${w.policyId}: ${w.error.message}`);
  }

  scopesFor(action: string): string[] {
    return (this.slices.get(action) ?? this.emptySlice).scopes;
  }

  /**
   * Cedar is deterministic in what it is given, and what it is given is already cut to what the
   * slice's policies read (often agent, tool, a tenant and the minute), so equal inputs are
   * answered from a bounded memo instead of crossing into wasm again. A reload builds a new set
   * and so starts with an empty memo.
   */
  private readonly memo = new Map<string, Evaluation>();
  memoEnabled = true;

  evaluate(req: CedarRequest): Evaluation {
    const slice = this.slices.get(req.action) ?? this.emptySlice;
    const context = pruneValue(req.context, slice.context) as Context;
    // A plain loop, not Array#map: V8 (Node 20) crashed deoptimising through map's builtin
    // continuation here under load (Fatal error "unreachable code" in DoComputeBuiltinContinuation).
    const entities: EntityJson[] = [];
    for (let i = 0; i < req.entities.length; i++) {
      const e = req.entities[i]!;
      entities.push({ uid: e.uid, attrs: pruneValue(e.attrs, i === 0 ? slice.principal : slice.resource) as EntityJson['attrs'], parents: e.parents });
    }
    const key = this.memoEnabled
      ? `${req.action}\u0000${req.principal.id}\u0000${req.resource.type}\u0000${req.resource.id}\u0000${JSON.stringify(context)}\u0000${JSON.stringify(entities)}`
      : '';
    const known = this.memoEnabled ? this.memo.get(key) : undefined;
    if (known) return { verdict: known.verdict, policies: [...known.policies], errors: [...known.errors] };
    const result = this.evaluateInCedar(req, slice, context, entities);
    if (this.memoEnabled) {
      if (this.memo.size >= 10_000) this.memo.delete(this.memo.keys().next().value!);
      this.memo.set(key, result);
    }
    return result;
  }

  private evaluateInCedar(req: CedarRequest, slice: Slice, context: Context, entities: EntityJson[]): Evaluation {
    const answer = statefulIsAuthorized({
      principal: req.principal,
      action: { type: 'Action', id: req.action },
      resource: req.resource,
      context,
      entities,
      preparsedPolicySetId: slice.id,
      preparsedSchemaName: slice.schemaName,
      // toolgate builds the request from the same schema; Cedar re-checking it costs time per call.
      validateRequest: false,
    });
    if (answer.type === 'failure') return { verdict: 'deny', policies: [], errors: answer.errors.map((e) => e.message) };
    const d = answer.response.diagnostics;
    return { verdict: answer.response.decision, policies: d.reason, errors: d.errors.map((e) => `${e.policyId}: ${e.error.message}`) };
  }

  /**
   * List-time: can this request be allowed for some arguments? Arguments are unknown before the
   * call, so when a policy reads them Cedar evaluates partially; "maybe" counts as visible (the
   * call itself is then decided with the real arguments). Everything else is known at list time.
   */
  mayAllow(req: CedarRequest): boolean {
    const slice = this.slices.get(req.action) ?? this.emptySlice;
    if (!slice.readsArguments) return this.evaluate(req).verdict === 'allow';
    const answer = isAuthorizedPartial({
      principal: req.principal,
      action: { type: 'Action', id: req.action },
      resource: req.resource,
      context: { ...req.context, arguments: { __extn: { fn: 'unknown', arg: 'arguments' } } },
      entities: req.entities,
      schema: this.schema as never,
      validateRequest: false,
      policies: { staticPolicies: slice.policies },
    });
    if (answer.type === 'failure') return false;
    return answer.response.decision !== 'deny';
  }
}

/** The schema as one slice sees it: every action (the group hierarchy), but contexts and entity shapes cut to what its policies read. */
function trimmedSchema(full: Record<string, unknown>, slice: Pick<Slice, 'context' | 'principal' | 'resource'>): Record<string, unknown> {
  type Ns = {
    entityTypes: Record<string, { memberOfTypes?: string[]; shape?: Record<string, unknown> }>;
    actions: Record<string, { memberOf?: unknown; appliesTo?: { context: Record<string, unknown> } }>;
  };
  const ns = (full as Record<string, Ns>)['']!;
  const entityTypes: Ns['entityTypes'] = {};
  for (const [name, t] of Object.entries(ns.entityTypes)) {
    const usage = name === 'Agent' ? slice.principal : slice.resource;
    entityTypes[name] = t.shape ? { ...t, shape: pruneType(t.shape, usage) } : t;
  }
  const actions: Ns['actions'] = {};
  for (const [name, a] of Object.entries(ns.actions)) {
    actions[name] = a.appliesTo ? { ...a, appliesTo: { ...a.appliesTo, context: pruneType(a.appliesTo.context, slice.context) } } : a;
  }
  return { '': { entityTypes, actions } };
}
