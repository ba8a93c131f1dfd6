/**
 * The `toolgate policy test` table that comes with a suggestion: per (agent, tool) used, one
 * real observed call (its principal, arguments and time) expecting allow by the suggested
 * permit; per tool the enforced set grants the agent but it never called, one call expecting
 * deny. Run against the suggestion before enforcing it:
 *   toolgate policy test DIR/tests.yaml --config FILE --policies DIR
 */
import { stringify } from 'yaml';
import type { ObservedCall } from './observed.js';
import type { Proposal, SuggestTool } from './suggest.js';
import { permitId } from './suggest-cedar.js';

export const TESTS_FILE = 'tests.yaml';

export interface TestCase {
  name: string;
  principal: { agent: string; user?: string; tenant?: string; scopes: string };
  tool: string;
  arguments: Record<string, unknown>;
  time: string;
  session?: false;
  expect: 'allow' | 'deny';
  policies?: string[];
}

export interface TestTableInput {
  proposal: Proposal;
  tools: Map<string, SuggestTool>;
  /** The tool's argument check (the gateway's ArgumentValidator): undefined when the arguments fit. */
  fits: (tool: SuggestTool, args: Record<string, unknown>) => boolean;
  /** Evaluate every case at this time instead of the recorded one (a gateway run with a fixed clock). */
  at?: string;
}

export interface TestTable {
  cases: TestCase[];
  /** Cases that could not be built (no observed call with unredacted arguments, no valid sample). */
  skipped: string[];
}

export function buildTestTable(input: TestTableInput): TestTable {
  const cases: TestCase[] = [];
  const skipped: string[] = [];
  // Argument values seen anywhere, by name: the best guess for a tool that was never called.
  const seen = new Map<string, unknown[]>();
  for (const a of input.proposal.agents)
    for (const t of a.permits) for (const c of t.calls) for (const [k, v] of Object.entries(c.args)) if (plain(v)) (seen.get(k) ?? seen.set(k, []).get(k)!).push(v);
  for (const a of input.proposal.agents) {
    for (const t of a.permits) {
      const call = t.calls.find((c) => Object.values(c.args).every(plain) && input.fits(t.tool, c.args));
      if (!call) {
        skipped.push(`${a.agent} ${t.tool.exposed}: no observed call with unredacted, valid arguments`);
        continue;
      }
      cases.push({
        ...caseFrom(call, t.tool.exposed, call.args, input.at ?? call.at, `${a.agent} calls ${t.tool.exposed} as observed`),
        expect: 'allow',
        policies: [permitId(a.agent, t.tool.action)],
      });
    }
    const rep = a.representative;
    for (const action of a.unused) {
      const tool = input.tools.get(action);
      const args = tool && sampleArguments(tool.inputSchema, seen, rep.tenant);
      if (!tool || !args || !input.fits(tool, args)) {
        skipped.push(`${a.agent} ${tool?.exposed ?? action}: no valid sample arguments`);
        continue;
      }
      cases.push({ ...caseFrom(rep, tool.exposed, args, input.at ?? rep.at, `${a.agent} never called ${tool.exposed}: denied`), expect: 'deny' });
    }
  }
  return { cases, skipped };
}

export function renderTestTable(table: TestTable, header: string): string {
  const lines = [`# ${header}`, '# Allow cases are real observed calls; deny cases are granted tools the agent never called.'];
  for (const s of table.skipped) lines.push(`# not generated: ${s}`);
  return `${lines.join('\n')}\n${stringify({ cases: table.cases }, { lineWidth: 0 })}`;
}

function caseFrom(call: ObservedCall, tool: string, args: Record<string, unknown>, time: string, name: string): Omit<TestCase, 'expect'> {
  return {
    name,
    principal: { agent: call.agent, ...(call.user ? { user: call.user } : {}), ...(call.tenant ? { tenant: call.tenant } : {}), scopes: call.scopes.join(' ') },
    tool,
    arguments: args,
    time,
    ...(call.session ? {} : { session: false as const }),
  };
}

/** A value the audit log kept as it was (not an HMAC or a commitment). */
function plain(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return typeof v !== 'string' || !/^(hmac|commit):/.test(v);
  if (Array.isArray(v)) return v.every(plain);
  return Object.entries(v).every(([k, x]) => !k.startsWith('$') && plain(x));
}

type JsonSchema = {
  type?: string;
  enum?: unknown[];
  default?: unknown;
  examples?: unknown[];
  description?: string;
  format?: string;
  minLength?: number;
  minimum?: number;
  minItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
};

/** Required arguments only, each from: a value seen under that name, the tenant, enum, default, example, format. */
export function sampleArguments(schema: unknown, seen: Map<string, unknown[]>, tenant: string | undefined): Record<string, unknown> | undefined {
  const s = schema as JsonSchema | undefined;
  if (!s || typeof s !== 'object') return {};
  const out: Record<string, unknown> = {};
  for (const name of s.required ?? []) {
    const v = name === 'tenant' && tenant ? tenant : (seen.get(name)?.[0] ?? sampleValue(s.properties?.[name] ?? {}, seen));
    if (v === undefined) return undefined;
    out[name] = v;
  }
  return out;
}

function sampleValue(s: JsonSchema, seen: Map<string, unknown[]>): unknown {
  if (s.enum?.length) return s.enum[0];
  if (s.default !== undefined) return s.default;
  if (s.examples?.length) return s.examples[0];
  switch (s.type) {
    case 'string': {
      const eg = /e\.g\. "([^"]+)"/.exec(s.description ?? '');
      if (eg) return eg[1];
      if (s.format === 'email') return 'someone@example.com';
      if (s.format === 'date') return '2026-01-05';
      if (s.format === 'date-time') return '2026-01-05T10:00:00Z';
      return 'x'.repeat(Math.max(1, s.minLength ?? 1));
    }
    case 'integer':
    case 'number':
      return s.minimum ?? 1;
    case 'boolean':
      return false;
    case 'array':
      return s.minItems ? Array.from({ length: s.minItems }, () => sampleValue(s.items ?? {}, seen)) : [];
    case 'object':
      return sampleArguments(s, seen, undefined);
    default:
      return undefined;
  }
}
