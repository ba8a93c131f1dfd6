/**
 * `toolgate audit trace` and `toolgate audit show`: from a trace id or an instruction id to the
 * calls it caused, and from one record (its hash, `chain:position`) back to its call, its
 * instruction and its trace.
 */
import type { RecordBody } from '../audit/record.js';
import { type AuditStore, matchesInstruction, type StoredRecord } from '../audit/store.js';
import { UsageError } from './usage.js';

/** Every record of one trace or instruction; more than this and the tree is cut (and says so). */
const MOST = 100_000;

/** One call: its decision (or refusal) and, when it ran, its outcome. */
export interface CallView {
  at: string;
  kind: string;
  record: { chain: string; position: number; hash: string };
  tool?: string;
  upstream?: string;
  method?: string;
  args?: Record<string, unknown>;
  verdict?: string;
  policies?: string[];
  outcome?: { status: string; isError?: boolean; latencyMs: number; at: string };
  latencyMs?: number;
  instruction?: Record<string, string>;
  trace?: string;
}

export interface TraceTree {
  query: { trace?: string; instruction?: string };
  calls: number;
  sessions: Array<{ session: string; users: Array<{ user: string; agents: Array<{ agent: string; calls: CallView[] }> }> }>;
}

interface Row {
  row: StoredRecord;
  body: RecordBody;
}

/** The records of one trace id, or of one instruction id (`KEY=VALUE` or a value under any key). */
export async function traceTree(store: AuditStore, query: { trace?: string; instruction?: string }): Promise<TraceTree> {
  const rows = await store.query({ ...query, limit: MOST });
  const records = bodies(rows).filter((r) => query.instruction === undefined || matchesInstruction(r.body.instruction, query.instruction));
  const calls = callsOf(records);
  const tree: TraceTree = { query, calls: calls.length, sessions: [] };
  for (const { call, body } of calls) {
    const sessionKey = body.session ?? '(no session)';
    let session = tree.sessions.find((s) => s.session === sessionKey);
    if (!session) {
      session = { session: sessionKey, users: [] };
      tree.sessions.push(session);
    }
    const userKey = body.principal?.user ?? '(no user)';
    let user = session.users.find((u) => u.user === userKey);
    if (!user) {
      user = { user: userKey, agents: [] };
      session.users.push(user);
    }
    const agentKey = body.principal?.agent ?? '(no agent)';
    let agent = user.agents.find((a) => a.agent === agentKey);
    if (!agent) {
      agent = { agent: agentKey, calls: [] };
      user.agents.push(agent);
    }
    agent.calls.push(call);
  }
  return tree;
}

/**
 * Pairs each outcome with its decision (by the decision's hash); every other record with a
 * tool (refusals, argument errors) is a call of its own. In time order.
 */
function callsOf(records: Row[]): Array<{ call: CallView; body: RecordBody }> {
  const outcomes = new Map<string, Row>();
  for (const r of records) if (r.body.kind === 'outcome' && r.body.links?.decision) outcomes.set(r.body.links.decision.hash, r);
  const calls: Array<{ call: CallView; body: RecordBody }> = [];
  const paired = new Set<Row>();
  for (const r of records) {
    if (r.body.kind === 'outcome') continue;
    if (r.body.tool === undefined && r.body.verdict === undefined) continue;
    const outcome = outcomes.get(r.row.hash);
    if (outcome) paired.add(outcome);
    calls.push({ call: callView(r, outcome), body: r.body });
  }
  // An outcome whose decision is not among these records (another trace, expired) still shows.
  for (const r of records) if (r.body.kind === 'outcome' && !paired.has(r)) calls.push({ call: callView(r, r), body: r.body });
  calls.sort((a, b) => (a.call.at < b.call.at ? -1 : a.call.at > b.call.at ? 1 : 0));
  return calls;
}

function callView(r: Row, outcome: Row | undefined): CallView {
  const b = r.body;
  const call: CallView = { at: b.at, kind: b.kind, record: { chain: r.row.chain, position: r.row.seq, hash: r.row.hash } };
  if (b.tool !== undefined) call.tool = b.tool;
  if (b.upstream !== undefined) call.upstream = b.upstream;
  if (b.method !== undefined) call.method = b.method;
  if (b.args !== undefined) call.args = b.args;
  if (b.verdict !== undefined) call.verdict = b.verdict;
  if (b.policies !== undefined) call.policies = b.policies;
  if (b.latencyMs !== undefined) call.latencyMs = b.latencyMs;
  if (b.instruction !== undefined) call.instruction = b.instruction;
  if (b.trace !== undefined) call.trace = b.trace;
  const o = outcome?.body.outcome;
  if (o) call.outcome = { status: o.status, ...(o.isError !== undefined ? { isError: o.isError } : {}), latencyMs: o.latencyMs, at: outcome!.body.at };
  return call;
}

function bodies(rows: StoredRecord[]): Row[] {
  const out: Row[] = [];
  for (const row of rows) if (row.body) out.push({ row, body: JSON.parse(row.body) as RecordBody });
  return out;
}

/** The tree as text: session → user → agent → one line per call. */
export function printTree(tree: TraceTree, json: boolean | undefined, write: (s: string) => void): number {
  if (json) {
    write(`${JSON.stringify(tree, null, 2)}\n`);
    return 0;
  }
  const what = tree.query.trace !== undefined ? `trace ${tree.query.trace}` : `instruction ${tree.query.instruction}`;
  write(`${what}: ${tree.calls} call(s)\n`);
  for (const s of tree.sessions) {
    write(`session ${s.session}\n`);
    for (const u of s.users) {
      write(`  user ${u.user}\n`);
      for (const a of u.agents) {
        write(`    agent ${a.agent}\n`);
        for (const c of a.calls) write(`      ${callLine(c)}\n`);
      }
    }
  }
  return 0;
}

function callLine(c: CallView): string {
  const parts = [c.at, c.tool ?? c.method ?? c.kind, JSON.stringify(c.args ?? {}), c.verdict ?? c.kind];
  if (c.policies && c.policies.length > 0) parts.push(`by ${c.policies.join(',')}`);
  if (c.outcome) parts.push(`${c.outcome.isError ? 'tool error' : c.outcome.status} in ${c.outcome.latencyMs} ms`);
  else if (c.verdict === 'allow') parts.push('no outcome recorded');
  parts.push(`${c.record.chain.slice(0, 8)}:${c.record.position}`);
  return parts.join('  ');
}

/** A record named by its hash (64 hex) or `chain:position` (the chain's full id or a prefix). */
export async function findRecord(store: AuditStore, name: string): Promise<StoredRecord | undefined> {
  if (/^[0-9a-f]{64}$/.test(name)) return (await store.query({ hash: name, limit: 1 }))[0];
  const m = /^([^:\s]+):(\d+)$/.exec(name);
  if (!m) {
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(name))
      throw new UsageError(`"${name}" looks like a per-call token's jti; records name calls by the token's audit claim instead: use its hash, or chain:pos`);
    throw new UsageError(`RECORD must be a record hash (64 hex digits) or CHAIN:POSITION, got "${name}"`);
  }
  const chains = (await store.chains()).filter((c) => c.chain === m[1] || c.chain.startsWith(m[1]!));
  if (chains.length > 1) throw new UsageError(`chain prefix "${m[1]}" names ${chains.length} chains; give more of it`);
  if (chains.length === 0) return undefined;
  return (await store.query({ chain: chains[0]!.chain, seq: Number(m[2]), limit: 1 }))[0];
}

export interface ShowView {
  record: { chain: string; position: number; hash: string; body: RecordBody | null };
  decision?: { chain: string; position: number; hash: string; body: RecordBody };
  outcome?: { chain: string; position: number; hash: string; body: RecordBody };
  instruction?: Record<string, string>;
  trace?: string;
  /** Commands that list the rest of the record's instruction and trace. */
  next: string[];
}

/** One record, the decision/outcome pair it belongs to, and where its instruction and trace lead. */
export async function showRecord(store: AuditStore, row: StoredRecord, storeArgs: string): Promise<ShowView> {
  const body = row.body ? (JSON.parse(row.body) as RecordBody) : null;
  const view: ShowView = { record: { chain: row.chain, position: row.seq, hash: row.hash, body }, next: [] };
  if (body) {
    const link = body.links?.decision;
    if (body.kind === 'decision') {
      view.decision = { chain: row.chain, position: row.seq, hash: row.hash, body };
      const outcome = (await store.query({ kind: 'outcome', chain: row.chain, limit: MOST }))
        .map((r) => ({ r, b: r.body ? (JSON.parse(r.body) as RecordBody) : undefined }))
        .find(({ b }) => b?.links?.decision?.hash === row.hash);
      if (outcome?.b) view.outcome = { chain: outcome.r.chain, position: outcome.r.seq, hash: outcome.r.hash, body: outcome.b };
    } else if (link) {
      const decision = (await store.query({ hash: link.hash, limit: 1 }))[0];
      if (decision?.body) view.decision = { chain: decision.chain, position: decision.seq, hash: decision.hash, body: JSON.parse(decision.body) as RecordBody };
      if (body.kind === 'outcome') view.outcome = { chain: row.chain, position: row.seq, hash: row.hash, body };
    }
    const instruction = body.instruction ?? view.decision?.body.instruction;
    const trace = body.trace ?? view.decision?.body.trace;
    if (instruction) {
      view.instruction = instruction;
      for (const [key, value] of Object.entries(instruction)) view.next.push(`toolgate audit trace --instruction '${key}=${value}' ${storeArgs}`);
    }
    if (trace) {
      view.trace = trace;
      view.next.push(`toolgate audit trace ${trace} ${storeArgs}`);
    }
  }
  return view;
}

export function printShow(view: ShowView, json: boolean | undefined, write: (s: string) => void): number {
  if (json) {
    write(`${JSON.stringify(view, null, 2)}\n`);
    return 0;
  }
  const r = view.record;
  write(`record ${r.chain}:${r.position}  ${r.hash}\n`);
  if (!r.body) {
    write('its body was removed by retention; only its hash and links remain\n');
    return 0;
  }
  write(`${JSON.stringify(r.body, null, 2)}\n`);
  if (view.decision) {
    const d = view.decision.body;
    write(
      `decision ${view.decision.chain.slice(0, 8)}:${view.decision.position}  ${d.at}  ${d.tool ?? d.method ?? ''}  ${d.verdict ?? ''}${d.policies?.length ? ` by ${d.policies.join(',')}` : ''}\n`,
    );
  }
  if (view.outcome) {
    const o = view.outcome.body.outcome;
    write(
      `outcome  ${view.outcome.chain.slice(0, 8)}:${view.outcome.position}  ${view.outcome.body.at}  ${o ? `${o.isError ? 'tool error' : o.status} in ${o.latencyMs} ms` : ''}\n`,
    );
  } else if (view.decision?.body.verdict === 'allow') write('outcome  none recorded\n');
  write(
    `instruction ${
      view.instruction
        ? Object.entries(view.instruction)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')
        : '(none recorded)'
    }\n`,
  );
  write(`trace ${view.trace ?? '(none recorded)'}\n`);
  for (const n of view.next) write(`list the rest: ${n}\n`);
  return 0;
}
