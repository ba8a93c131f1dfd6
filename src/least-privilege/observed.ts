/**
 * The tool calls an audit log saw: its `decision` records for `tools/call`, read chain by chain
 * and kept when their time falls in the range. What `toolgate report usage`, the upstream scope
 * report and `toolgate policy suggest|shadow` count. Records whose body retention removed are
 * skipped (and counted, so a report can say so).
 */
import type { RecordBody } from '../audit/record.js';
import type { AuditStore } from '../audit/store.js';

export interface ObservedCall {
  at: string;
  chain: string;
  position: number;
  agent: string;
  user?: string;
  tenant?: string;
  scopes: string[];
  upstream: string;
  /** The tool as clients see it (`crm__search_contacts`); `target` is the upstream's own name. */
  tool: string;
  target: string;
  /** As recorded: after redaction (a redacted value is a string like `hmac:…`, `commit:…`). */
  args: Record<string, unknown>;
  verdict: 'allow' | 'deny';
  policies: string[];
  policyErrors: string[];
  policySetHash?: string;
  session?: string;
  /** The tool was not listed to the caller (a call to a hidden tool). */
  hidden: boolean;
  shadow?: { verdict: 'allow' | 'deny'; policies: string[]; policySetHash?: string };
}

export interface TimeRange {
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
}

export interface Observation {
  calls: ObservedCall[];
  /** Decision records in the range whose body was removed by retention. */
  expired: number;
  range: TimeRange;
}

/** Every tools/call decision in the range, oldest first. */
export async function observeCalls(store: AuditStore, range: TimeRange = {}): Promise<Observation> {
  const calls: ObservedCall[] = [];
  let expired = 0;
  const from = range.from?.toISOString();
  const to = range.to?.toISOString();
  for (const info of await store.chains()) {
    for await (const row of store.records(info.chain)) {
      if (row.kind !== 'decision') continue;
      if ((from && row.at < from) || (to && row.at >= to)) continue;
      if (row.body === null) {
        expired++;
        continue;
      }
      const call = callOf(JSON.parse(row.body) as RecordBody, row.chain, row.seq);
      if (call) calls.push(call);
    }
  }
  calls.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return { calls, expired, range };
}

function callOf(body: RecordBody, chain: string, position: number): ObservedCall | undefined {
  if (body.method !== 'tools/call' || !body.principal || !body.upstream || !body.tool || !body.verdict) return undefined;
  const p = body.principal;
  const call: ObservedCall = {
    at: body.at,
    chain,
    position,
    agent: p.agent,
    scopes: [...p.scopes],
    upstream: body.upstream,
    tool: body.tool,
    target: body.target ?? body.tool,
    args: body.args ?? {},
    verdict: body.verdict,
    policies: body.policies ?? [],
    policyErrors: body.policyErrors ?? [],
    hidden: (body.detail as { hidden?: unknown } | undefined)?.hidden === true,
  };
  if (p.user !== undefined) call.user = p.user;
  if (p.tenant !== undefined) call.tenant = p.tenant;
  if (body.policySetHash !== undefined) call.policySetHash = body.policySetHash;
  if (body.session !== undefined) call.session = body.session;
  if (body.shadow) call.shadow = body.shadow;
  return call;
}
