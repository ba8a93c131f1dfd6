import type { Checkpoint } from './checkpoint.js';

/**
 * One stored record: its exact hashed bytes (`body`) plus copies of a few fields as columns,
 * for ordering and queries. Verification trusts only `body` (and, once retention has removed
 * the body, `prev` and `hash`).
 */
export interface StoredRecord {
  chain: string;
  seq: number;
  prev: string;
  hash: string;
  at: string;
  kind: string;
  agent?: string | null;
  user?: string | null;
  tenant?: string | null;
  tool?: string | null;
  verdict?: string | null;
  session?: string | null;
  trace?: string | null;
  request?: string | null;
  /** The body's instruction ids as `instructionColumn` writes them; an index, derived from the body. */
  instruction?: string | null;
  /** RFC 8785 bytes as hashed; null once the retention period has removed the payload. */
  body: string | null;
}

export interface PayloadRow {
  commitment: string;
  chain: string;
  at: string;
  salt: string;
  value: string;
}

export interface ChainInfo {
  chain: string;
  instance: string;
  startedAt: string;
  sealedAt?: string;
}

export interface ChainTail {
  chain: string;
  seq: number;
  hash: string;
}

export interface RecordFilter {
  user?: string;
  agent?: string;
  tool?: string;
  verdict?: string;
  session?: string;
  trace?: string;
  /** An instruction id: `KEY=VALUE`, or a VALUE under any allow-listed key (see `instructionNeedle`); exact. */
  instruction?: string;
  kind?: string;
  chain?: string;
  /** Position in the chain. */
  seq?: number;
  hash?: string;
  from?: Date;
  to?: Date;
  limit?: number;
}

/**
 * Where records live. Appends are batches in one transaction each; `append` resolves only once
 * the batch is durable. A store holds many chains: every run of every instance has its own.
 */
export interface AuditStore {
  readonly kind: 'sqlite' | 'postgres';
  /** A human-readable location for messages (file path, database and schema). */
  readonly location: string;
  open(): Promise<void>;
  /** Registers a new chain and takes ownership of it (a lock for as long as this store is open). */
  startChain(info: ChainInfo): Promise<void>;
  /** Unsealed chains whose writer is gone (crashed), each with its last record, now owned by this store. */
  claimOrphanedChains(): Promise<ChainTail[]>;
  append(records: StoredRecord[], payloads: PayloadRow[]): Promise<void>;
  addCheckpoint(cp: Checkpoint): Promise<void>;
  markSealed(chain: string, at: string): Promise<void>;
  addPublicKey(keyId: string, pem: string): Promise<void>;
  publicKeys(): Promise<string[]>;
  chains(): Promise<ChainInfo[]>;
  /** The chain's records in stored order (by position). */
  records(chain: string): AsyncIterable<StoredRecord>;
  checkpoints(chain: string): Promise<Checkpoint[]>;
  query(filter: RecordFilter): Promise<StoredRecord[]>;
  payloads(chain: string): Promise<PayloadRow[]>;
  /** Removes bodies and payloads of records older than `before`; hashes and links stay. */
  expire(before: Date): Promise<{ records: number; payloads: number }>;
  close(): Promise<void>;
}

/**
 * The WHERE conditions of a RecordFilter over the records table and their values, in order;
 * `placeholder(n)` writes the n-th parameter as the store's driver wants it (`?` or `$n`).
 */
export function filterConditions(
  filter: RecordFilter,
  placeholder: (n: number) => string,
  contains: (column: string, needle: string) => string = (c, n) => `instr(${c}, ${n}) > 0`,
): { where: string[]; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (condition: string, value: unknown): void => {
    args.push(value);
    where.push(`${condition} ${placeholder(args.length)}`);
  };
  const eq: Array<[keyof RecordFilter, string]> = [
    ['user', 'user_id'],
    ['agent', 'agent_id'],
    ['tool', 'tool'],
    ['verdict', 'verdict'],
    ['session', 'session'],
    ['trace', 'trace'],
    ['kind', 'kind'],
    ['chain', 'chain'],
    ['seq', 'seq'],
    ['hash', 'hash'],
  ];
  for (const [key, column] of eq) if (filter[key] !== undefined) add(`${column} =`, filter[key]);
  if (filter.instruction !== undefined) {
    args.push(instructionNeedle(filter.instruction));
    where.push(contains('instruction', placeholder(args.length)));
  }
  if (filter.from) add('at >=', filter.from.toISOString());
  if (filter.to) add('at <', filter.to.toISOString());
  return { where, args };
}

/** Query columns of a record body (the body is already redacted). */
export function columnsOf(body: {
  principal?: { agent?: string; user?: string; tenant?: string };
  tool?: string;
  verdict?: string;
  session?: string;
  trace?: string;
  request?: string;
  instruction?: Record<string, string>;
}): Pick<StoredRecord, 'agent' | 'user' | 'tenant' | 'tool' | 'verdict' | 'session' | 'trace' | 'request' | 'instruction'> {
  return {
    agent: body.principal?.agent ?? null,
    user: body.principal?.user ?? null,
    tenant: body.principal?.tenant ?? null,
    tool: body.tool ?? null,
    verdict: body.verdict ?? null,
    session: body.session ?? null,
    trace: body.trace ?? null,
    request: body.request ?? null,
    instruction: instructionColumn(body.instruction),
  };
}

/**
 * The instruction column: each pair of the body's ids as `key<TAB>value`, sorted by key, each
 * closed by a newline and the whole opened by one (`\ninstruction.id\ti-42\n`). Ids are
 * printable, so a tab only ever separates a key from its value and a lookup is an exact
 * substring test: `\tVALUE\n` for a value under any key, `\nKEY\tVALUE\n` for one key. (A tab or
 * newline inside an id, should one get this far, is written as a space.)
 */
export function instructionColumn(ids: Record<string, string> | undefined): string | null {
  if (!ids) return null;
  const keys = Object.keys(ids).sort();
  if (keys.length === 0) return null;
  let column = '\n';
  for (const key of keys) column += `${flat(key)}\t${flat(ids[key]!)}\n`;
  return column;
}

function flat(text: string): string {
  return /[\t\n]/.test(text) ? text.replace(/[\t\n]/g, ' ') : text;
}

/** The substring an instruction filter looks for: `KEY=VALUE` names the key (split at the first `=`), anything else is a value under any key. */
export function instructionNeedle(id: string): string {
  const eq = id.indexOf('=');
  return eq > 0 ? `\n${flat(id.slice(0, eq))}\t${flat(id.slice(eq + 1))}\n` : `\t${flat(id)}\n`;
}

/** Whether a record's instruction ids hold `id`, read as `instructionNeedle` reads it. */
export function matchesInstruction(ids: Record<string, string> | undefined, id: string): boolean {
  if (!ids) return false;
  const eq = id.indexOf('=');
  if (eq > 0) return Object.hasOwn(ids, id.slice(0, eq)) && ids[id.slice(0, eq)] === id.slice(eq + 1);
  return Object.values(ids).includes(id);
}
