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
  kind?: string;
  chain?: string;
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
export function filterConditions(filter: RecordFilter, placeholder: (n: number) => string): { where: string[]; args: unknown[] } {
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
  ];
  for (const [key, column] of eq) if (filter[key] !== undefined) add(`${column} =`, filter[key]);
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
}): Pick<StoredRecord, 'agent' | 'user' | 'tenant' | 'tool' | 'verdict' | 'session' | 'trace' | 'request'> {
  return {
    agent: body.principal?.agent ?? null,
    user: body.principal?.user ?? null,
    tenant: body.principal?.tenant ?? null,
    tool: body.tool ?? null,
    verdict: body.verdict ?? null,
    session: body.session ?? null,
    trace: body.trace ?? null,
    request: body.request ?? null,
  };
}
