import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { exportBundle, signingKeyFrom, verifyBundle } from '../audit/bundle.js';
import { trustedKeys } from '../audit/checkpoint.js';
import type { RecordBody } from '../audit/record.js';
import { recordReason } from '../audit/refusal-reason.js';
import type { AuditStore, RecordFilter, StoredRecord } from '../audit/store.js';
import type { VerifyReport } from '../audit/verify.js';
import { verifyStore } from '../audit/verify-store.js';
import { timeOption, withAuditStore } from './audit-store.js';
import { findRecord, printShow, printTree, showRecord, traceTree } from './audit-trace.js';
import { asksForHelp, UsageError } from './usage.js';

const USAGE = `usage:
  toolgate audit verify [STORE] [--trust-key PEM]... [--json]     check the log's hashes, links, checkpoints, seals
  toolgate audit verify --bundle DIR [--trust-key PEM]... [--json] the same, offline, on an exported bundle
  toolgate audit query [STORE] [--user U] [--agent A] [--tool T] [--verdict allow|deny] [--session S] [--trace T]
                       [--instruction ID] [--kind K] [--since TIME] [--until TIME] [--limit N] [--json]
  toolgate audit export [STORE] --out DIR                          write an evidence bundle
  toolgate audit trace TRACE_ID [STORE] [--json]                   the calls one trace caused: session → user → agent → call
  toolgate audit trace --instruction ID [STORE] [--json]           the same for one instruction (ID: a value under any
                                                                   instruction key, or KEY=VALUE)
  toolgate audit show RECORD [STORE] [--json]                      one record (hash, or CHAIN:POSITION), its decision and
                                                                   outcome, its instruction and trace
STORE: --config FILE (its audit: section), or --db FILE (SQLite), or --home DIR (DIR/audit.db);
       default: TOOLGATE_HOME or ./.toolgate
`;

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  db: { type: 'string' },
  home: { type: 'string' },
  bundle: { type: 'string' },
  'trust-key': { type: 'string', multiple: true },
  json: { type: 'boolean' },
  out: { type: 'string' },
  user: { type: 'string' },
  agent: { type: 'string' },
  tool: { type: 'string' },
  verdict: { type: 'string' },
  session: { type: 'string' },
  trace: { type: 'string' },
  instruction: { type: 'string' },
  kind: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  limit: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** `toolgate audit verify|query|export|trace|show`. Exit 0: fine; 1: the log does not verify; 2: usage or input error. */
export async function runAudit(args: string[]): Promise<number> {
  if (asksForHelp(args)) {
    process.stdout.write(USAGE);
    return 0;
  }
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true }));
  } catch (err) {
    process.stderr.write(`toolgate audit: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const [command, subject, ...extra] = positionals;
  try {
    switch (command) {
      case 'verify':
        return values.bundle
          ? printReport(await verifyBundle(values.bundle, trustedPems(values)), values.json)
          : await withStore(values, async (store, keysDir) => printReport(await verifyStore(store, trustedKeys(await storeTrust(values, keysDir, store))), values.json));
      case 'query':
        return await withStore(values, async (store) => printRecords(await store.query(filterFrom(values)), values.json));
      case 'export':
        if (!values.out) throw new UsageError('export needs --out DIR');
        return await withStore(values, async (store, keysDir) => {
          const manifest = await exportBundle(store, resolve(values.out!), signingKeyFrom(join(keysDir, 'audit-checkpoint.pem')));
          const records = manifest.chains.reduce((n, c) => n + c.records, 0);
          process.stdout.write(
            `exported ${records} records in ${manifest.chains.length} chain(s) to ${values.out}\nverify offline: toolgate audit verify --bundle ${values.out}\n`,
          );
          return 0;
        });
      case 'trace': {
        if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
        if ((subject === undefined) === (values.instruction === undefined)) throw new UsageError('trace needs a TRACE_ID or --instruction ID (one of them)');
        if (subject !== undefined && !/^[0-9a-f]{32}$/.test(subject)) throw new UsageError(`TRACE_ID is a W3C trace id (32 lowercase hex digits), got "${subject}"`);
        if (values.instruction === '') throw new UsageError('--instruction needs an ID');
        const query = subject !== undefined ? { trace: subject } : { instruction: values.instruction! };
        return await withStore(values, async (store) => {
          const tree = await traceTree(store, query);
          if (tree.calls === 0) {
            process.stderr.write(`toolgate audit trace: no calls recorded for ${subject !== undefined ? `trace ${subject}` : `instruction ${values.instruction}`}\n`);
            return 1;
          }
          return printTree(tree, values.json, (t) => process.stdout.write(t));
        });
      }
      case 'show': {
        if (subject === undefined) throw new UsageError('show needs a RECORD (its hash, or CHAIN:POSITION)');
        if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
        return await withStore(values, async (store) => {
          const row = await findRecord(store, subject);
          if (!row) {
            process.stderr.write(`toolgate audit show: no record ${subject} in ${store.location}\n`);
            return 1;
          }
          return printShow(await showRecord(store, row, storeArguments(values)), values.json, (t) => process.stdout.write(t));
        });
      }
      default:
        process.stderr.write(`toolgate audit: ${command ? `unknown subcommand "${command}"` : 'missing subcommand'}\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    process.stderr.write(`toolgate audit ${command}: ${(err as Error).message}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}

async function withStore(values: Values, fn: (store: AuditStore, keysDir: string) => Promise<number>): Promise<number> {
  return withAuditStore({ ...(values.config ? { config: values.config } : {}), ...(values.db ? { db: values.db } : {}), ...(values.home ? { home: values.home } : {}) }, fn);
}

/** The store options as typed, for the commands `show` suggests. */
function storeArguments(values: Values): string {
  const quote = (v: string): string => (/^[\w./:@-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);
  const parts: string[] = [];
  if (values.config) parts.push(`--config ${quote(values.config)}`);
  if (values.db) parts.push(`--db ${quote(values.db)}`);
  if (values.home) parts.push(`--home ${quote(values.home)}`);
  return parts.join(' ');
}

function trustedPems(values: Values): string[] | undefined {
  const files = values['trust-key'];
  return files && files.length > 0 ? files.map((f) => readFileSync(f, 'utf8')) : undefined;
}

/**
 * Which keys a store's checkpoints must be signed with: those given, else the operator's own
 * checkpoint key from the keys folder. Only when neither exists are the keys recorded in the
 * store itself used, and the report says so: whoever can write the store can write those too.
 */
async function storeTrust(values: Values, keysDir: string, store: AuditStore): Promise<string[]> {
  const given = trustedPems(values);
  if (given) return given;
  const own = join(keysDir, 'audit-checkpoint.pem');
  if (existsSync(own)) return [createPublicKey(readFileSync(own)).export({ type: 'spki', format: 'pem' }) as string];
  process.stderr.write(`toolgate audit verify: no --trust-key and no key at ${own}; trusting the public keys recorded in the store itself\n`);
  return store.publicKeys();
}

function printReport(report: VerifyReport & { manifestSigned?: boolean }, json?: boolean): number {
  if (json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return report.ok ? 0 : 1;
  }
  for (const c of report.chains) {
    const state = c.finding ? 'FAILED' : c.sealed ? 'sealed' : 'open';
    process.stdout.write(`chain ${c.chain}: ${c.records} records (${c.expired} expired), ${c.checkpoints} checkpoints, ${state}\n`);
  }
  process.stdout.write(`checkpoint keys trusted: ${report.trustedKeyIds.map((k) => k.slice(0, 16)).join(', ') || 'none'}\n`);
  if (report.manifestSigned !== undefined) process.stdout.write(`manifest signature: ${report.manifestSigned ? 'valid' : 'missing or invalid'}\n`);
  if (report.finding) {
    const f = report.finding;
    process.stdout.write(`FAILED: ${f.kind} at record ${f.position} of chain ${f.chain}: ${f.message}\n`);
    return 1;
  }
  process.stdout.write(`OK: ${report.chains.reduce((n, c) => n + c.records, 0)} records verified\n`);
  return 0;
}

function filterFrom(values: Values): RecordFilter {
  const filter: RecordFilter = {};
  for (const key of ['user', 'agent', 'tool', 'verdict', 'session', 'trace', 'instruction', 'kind'] as const) if (values[key] !== undefined) filter[key] = values[key];
  if (values.since) filter.from = timeOption(values.since, '--since');
  if (values.until) filter.to = timeOption(values.until, '--until');
  if (values.limit) {
    const n = Number(values.limit);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--limit expects a positive integer, got "${values.limit}"`);
    filter.limit = n;
  }
  return filter;
}

function printRecords(rows: StoredRecord[], json?: boolean): number {
  if (json) {
    process.stdout.write(`${JSON.stringify(rows.map((r) => ({ chain: r.chain, position: r.seq, hash: r.hash, record: r.body ? JSON.parse(r.body) : null })))}\n`);
    return 0;
  }
  // The reason last: it is the longest cell, and the one a user acts on (why was this refused?).
  const header = ['time (UTC)', 'position', 'kind', 'agent', 'user', 'tool', 'verdict', 'session', 'reason'];
  const table = rows.map((r) => [
    r.at,
    `${r.chain.slice(0, 8)}:${r.seq}`,
    r.kind,
    r.agent ?? '',
    r.user ?? '',
    r.tool ?? '',
    r.verdict ?? '',
    (r.session ?? '').slice(0, 12),
    reasonOf(r),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  for (const row of [header, ...table])
    process.stdout.write(
      `${row
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
  process.stdout.write(`${rows.length} record(s)\n`);
  return 0;
}

/** The record's reason (a refusal's, a session end's), or '' when it gives none or retention removed its body. */
function reasonOf(row: StoredRecord): string {
  if (!row.body) return '';
  const body = JSON.parse(row.body) as RecordBody;
  return recordReason(body) ?? '';
}
