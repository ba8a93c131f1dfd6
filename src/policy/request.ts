/**
 * Builds the Cedar request for one call. Only what policies can use goes in, and the parts that
 * do not change per call (principal and resource entities) are reused: converting the request
 * into wasm is most of a decision's cost (measured with bench/micro).
 */
import type { EntityJson } from '@cedar-policy/cedar-wasm/nodejs';
import type { Principal, RequestContext } from '../pipeline/stages.js';
import type { LocalTime } from './clock.js';
import type { CedarRequest } from './compiled.js';
import type { PolicySettings } from './settings.js';

export interface ResourceRef {
  action: string;
  type: 'Tool' | 'Prompt' | 'Resource';
  id: string;
  attrs: Record<string, string>;
  upstream: string;
}

type Shape = Record<string, { type: string; element?: unknown; attributes?: unknown }>;

/** Keeps only the argument values the tool's Cedar type declares (ajv has checked their types). */
export function projectArguments(value: Record<string, unknown>, shape: Shape): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, t] of Object.entries(shape)) {
    const v = value[name];
    if (v === undefined) continue;
    if (t.type === 'Record') {
      if (v && typeof v === 'object' && !Array.isArray(v)) out[name] = projectArguments(v as Record<string, unknown>, t.attributes as Shape);
    } else if (t.type === 'Set') {
      if (Array.isArray(v)) out[name] = v.filter((x) => x === null || typeof x !== 'object');
    } else out[name] = v;
  }
  return out;
}

export class RequestBuilder {
  private readonly agents = new Map<string, EntityJson>();

  constructor(private readonly settings: PolicySettings) {}

  agentEntity(principal: Principal): EntityJson {
    const configured = this.settings.agents[principal.agent];
    const tenant = configured?.tenant ?? principal.tenant ?? '';
    const key = `${principal.agent}\u0000${tenant}`;
    let e = this.agents.get(key);
    if (!e) {
      e = { uid: { type: 'Agent', id: principal.agent }, attrs: { tenant, groups: configured?.groups ?? [] }, parents: [] };
      if (this.agents.size > 10_000) this.agents.clear();
      this.agents.set(key, e);
    }
    return e;
  }

  build(
    principal: Principal,
    resource: ResourceRef,
    time: LocalTime,
    ctx: Pick<RequestContext, 'sessionId' | 'protocolVersion'> | undefined,
    args: Record<string, unknown>,
  ): CedarRequest {
    const agent = this.agentEntity(principal);
    const tenant = principal.tenant ?? (agent.attrs.tenant as string);
    const uid = { type: resource.type, id: resource.id };
    return {
      principal: agent.uid as CedarRequest['principal'],
      action: resource.action,
      resource: uid,
      context: {
        user: { present: principal.user !== undefined, id: principal.user ?? '', tenant: principal.user !== undefined ? tenant : '' },
        scopes: principal.scopes,
        tenant,
        time: { hour: time.hour, minute: time.minute, minuteOfDay: time.minuteOfDay, weekday: time.weekday },
        session: { present: ctx?.sessionId !== undefined, id: ctx?.sessionId ?? '' },
        transport: { protocolVersion: ctx?.protocolVersion ?? '' },
        arguments: args as never,
      },
      entities: [agent, { uid, attrs: resource.attrs, parents: [{ type: 'Server', id: resource.upstream }] }],
    };
  }
}
