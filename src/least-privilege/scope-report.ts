/**
 * `toolgate report scopes`: which scopes allowed calls needed, against the scopes that exist.
 *
 * Upstream side — per upstream, its baseline scopes (what a caller must carry to reach it; every
 * allowed call to it needed all of them) and the scopes its per-call credentials can carry (the
 * `credential.scopes` map: what the service account behind the upstream must hold). A credential
 * scope is needed by an allowed call when toolgate minted it for that call (scopesFor(map, tool));
 * one never needed is a scope the service account can drop.
 *
 * Caller side — per agent, the scopes seen in its tokens against the scopes an allowed call
 * needed: a baseline scope of the upstream called, or the `@scope` of a permit that decided the
 * call. Kept that simple on purpose: a scope a policy reads without naming it in `@scope` (and
 * which removing would flip a decision) is not detected; the report says so.
 */
import type { UpstreamConfig } from '../config/types.js';
import { scopesFor } from '../credentials/scopes.js';
import type { Observation } from './observed.js';

export interface ScopeUse {
  scope: string;
  /** Allowed calls that needed it. */
  calls: number;
  tools: string[];
}

export interface UpstreamScopes {
  upstream: string;
  baseline: ScopeUse[];
  /** `none` when the upstream gets no per-call credential with scopes. */
  credential: { mode: string; scopes: ScopeUse[] };
  /** Credential scopes no allowed call needed: the service account can drop them. */
  unneededCredentialScopes: string[];
  unneededBaseline: string[];
}

export interface AgentScopes {
  agent: string;
  /** Scopes its tokens carried, on any call. */
  seen: string[];
  needed: Array<ScopeUse & { because: string[] }>;
  /** Seen but no allowed call needed them. */
  unneeded: string[];
}

export interface ScopeReport {
  version: 1;
  range: { since: string | null; until: string | null };
  calls: { allowed: number; denied: number; expired: number };
  upstreams: UpstreamScopes[];
  agents: AgentScopes[];
}

export function scopeReport(observation: Observation, upstreams: UpstreamConfig[], permitScopes: Map<string, string>): ScopeReport {
  const allowed = observation.calls.filter((c) => c.verdict === 'allow');
  const use = () => new Map<string, { calls: number; tools: Set<string> }>();
  const count = (m: ReturnType<typeof use>, scope: string, tool: string) => {
    let u = m.get(scope);
    if (!u) {
      u = { calls: 0, tools: new Set() };
      m.set(scope, u);
    }
    u.calls++;
    u.tools.add(tool);
  };
  const listed = (names: string[], m: ReturnType<typeof use>): ScopeUse[] =>
    names.map((scope) => ({ scope, calls: m.get(scope)?.calls ?? 0, tools: [...(m.get(scope)?.tools ?? [])].sort() }));

  const upstreamReports = upstreams.map((u): UpstreamScopes => {
    const calls = allowed.filter((c) => c.upstream === u.id);
    const baselineUse = use();
    const credentialUse = use();
    const map = u.credential && 'scopes' in u.credential ? u.credential.scopes : undefined;
    for (const c of calls) {
      for (const s of u.scopes ?? []) count(baselineUse, s, c.tool);
      if (map) for (const s of scopesFor(map, c.target)) count(credentialUse, s, c.tool);
    }
    const credentialScopes = map ? [...new Set(Object.values(map).flat())].sort() : [];
    const credential = listed(credentialScopes, credentialUse);
    const baseline = listed(u.scopes ?? [], baselineUse);
    return {
      upstream: u.id,
      baseline,
      credential: { mode: u.credential?.mode ?? 'none', scopes: credential },
      unneededCredentialScopes: credential.filter((s) => s.calls === 0).map((s) => s.scope),
      unneededBaseline: baseline.filter((s) => s.calls === 0).map((s) => s.scope),
    };
  });

  const baselineOf = new Map(upstreams.map((u) => [u.id, u.scopes ?? []]));
  const agents = [...new Set(observation.calls.map((c) => c.agent))].sort().map((agent): AgentScopes => {
    const seen = [...new Set(observation.calls.filter((c) => c.agent === agent).flatMap((c) => c.scopes))].sort();
    const needed = use();
    const because = new Map<string, Set<string>>();
    const why = (scope: string, reason: string) => {
      if (!because.has(scope)) because.set(scope, new Set());
      because.get(scope)!.add(reason);
    };
    for (const c of allowed.filter((x) => x.agent === agent)) {
      const scopes = new Set<string>();
      for (const s of baselineOf.get(c.upstream) ?? []) {
        scopes.add(s);
        why(s, `baseline of ${c.upstream}`);
      }
      for (const p of c.policies) {
        const s = permitScopes.get(p);
        if (s && c.scopes.includes(s)) {
          scopes.add(s);
          why(s, `@scope of ${p}`);
        }
      }
      for (const s of scopes) count(needed, s, c.tool);
    }
    const neededList = listed([...needed.keys()].sort(), needed).map((u) => ({ ...u, because: [...(because.get(u.scope) ?? [])].sort() }));
    return { agent, seen, needed: neededList, unneeded: seen.filter((s) => !needed.has(s)) };
  });

  return {
    version: 1,
    range: { since: observation.range.from?.toISOString() ?? null, until: observation.range.to?.toISOString() ?? null },
    calls: { allowed: allowed.length, denied: observation.calls.length - allowed.length, expired: observation.expired },
    upstreams: upstreamReports,
    agents,
  };
}
