import { existsSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { AuditError } from '../pipeline/rejections.js';
import type { Checkpoint } from './checkpoint.js';
import { type AuditStore, type ChainInfo, type ChainTail, filterConditions, type PayloadRow, type RecordFilter, type StoredRecord } from './store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS chains (chain TEXT PRIMARY KEY, instance TEXT NOT NULL, started_at TEXT NOT NULL, sealed_at TEXT, host TEXT, pid INTEGER);
CREATE TABLE IF NOT EXISTS records (
  chain TEXT NOT NULL, seq INTEGER NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL, at TEXT NOT NULL, kind TEXT NOT NULL,
  agent_id TEXT, user_id TEXT, tenant TEXT, tool TEXT, verdict TEXT, session TEXT, trace TEXT, request TEXT, instruction TEXT,
  body TEXT,
  PRIMARY KEY (chain, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_at ON records (at);
CREATE TABLE IF NOT EXISTS checkpoints (chain TEXT NOT NULL, position INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (chain, position));
CREATE TABLE IF NOT EXISTS payloads (commitment TEXT PRIMARY KEY, chain TEXT NOT NULL, at TEXT NOT NULL, salt TEXT NOT NULL, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keys (key_id TEXT PRIMARY KEY, public_pem TEXT NOT NULL, added_at TEXT NOT NULL);
`;

/**
 * The embedded store: one SQLite file, WAL, `synchronous=FULL` (a commit is on disk when it
 * returns), `secure_delete` (expired payloads are overwritten, not left in free pages). One
 * chain has one writing process, whose host and pid the chains table keeps: an unsealed chain
 * whose process is gone was left by a crash (several processes may share a file; SQLite's own
 * locking orders their commits). Calls are synchronous and short; the log batches rows so each
 * commit carries many.
 */
export class SqliteAuditStore implements AuditStore {
  readonly kind = 'sqlite';
  private db!: Database.Database;
  private insertRecord!: Database.Statement;
  private insertPayload!: Database.Statement;
  private readonly mine = new Set<string>();
  /** False on a file from before the instruction column, opened read-only (it cannot be migrated). */
  private hasInstruction = true;
  /** Appends go to a writer thread, so the fsync of a commit never blocks the gateway's event loop. */
  private writer?: Worker;
  private nextId = 0;
  private broken?: Error;
  private readonly waiting = new Map<number, { resolve(): void; reject(err: Error): void }>();

  constructor(
    readonly path: string,
    private readonly options: { readonly?: boolean; writerThread?: boolean } = {},
  ) {}

  get location(): string {
    return this.path;
  }

  async open(): Promise<void> {
    try {
      if (!this.options.readonly) {
        mkdirSync(dirname(this.path), { recursive: true });
      }
      this.db = new Database(this.path, { readonly: this.options.readonly ?? false, fileMustExist: this.options.readonly ?? false });
      if (!this.options.readonly) {
        this.db.pragma('journal_mode = WAL');
        this.db.pragma('synchronous = FULL');
        this.db.pragma('secure_delete = ON');
        this.db.pragma('busy_timeout = 2000');
        this.db.exec(SCHEMA);
        migrate(this.db);
        this.insertRecord = this.db.prepare(
          'INSERT INTO records (chain, seq, prev, hash, at, kind, agent_id, user_id, tenant, tool, verdict, session, trace, request, instruction, body) VALUES (@chain, @seq, @prev, @hash, @at, @kind, @agent, @user, @tenant, @tool, @verdict, @session, @trace, @request, @instruction, @body)',
        );
        this.insertPayload = this.db.prepare('INSERT OR REPLACE INTO payloads (commitment, chain, at, salt, value) VALUES (@commitment, @chain, @at, @salt, @value)');
        if (this.options.writerThread !== false) this.startWriter();
      } else this.hasInstruction = columnsOf(this.db, 'records').includes('instruction');
    } catch (err) {
      throw storeError(`cannot open ${this.path}`, err);
    }
  }

  async startChain(info: ChainInfo): Promise<void> {
    this.run(() =>
      this.db.prepare('INSERT INTO chains (chain, instance, started_at, host, pid) VALUES (?, ?, ?, ?, ?)').run(info.chain, info.instance, info.startedAt, hostname(), process.pid),
    );
    this.mine.add(info.chain);
  }

  async claimOrphanedChains(): Promise<ChainTail[]> {
    const rows = this.db.prepare('SELECT chain, host, pid FROM chains WHERE sealed_at IS NULL ORDER BY started_at').all() as Array<{
      chain: string;
      host: string | null;
      pid: number | null;
    }>;
    const tails: ChainTail[] = [];
    for (const { chain, host, pid } of rows) {
      if (this.mine.has(chain)) continue;
      // Another process's chain: orphaned only when that process is provably gone.
      if (host !== null && host !== hostname()) continue;
      if (pid !== null && pid !== process.pid && alive(pid)) continue;
      const tail = this.db.prepare('SELECT seq, hash FROM records WHERE chain = ? ORDER BY seq DESC LIMIT 1').get(chain) as { seq: number; hash: string } | undefined;
      if (tail) tails.push({ chain, seq: tail.seq, hash: tail.hash });
      else this.db.prepare('DELETE FROM chains WHERE chain = ?').run(chain); // never wrote a record
    }
    return tails;
  }

  async append(records: StoredRecord[], payloads: PayloadRow[]): Promise<void> {
    if (this.options.writerThread === false || this.options.readonly) {
      this.run(() =>
        this.db.transaction(() => {
          for (const r of records) this.insertRecord.run(withNulls(r));
          for (const p of payloads) this.insertPayload.run(p);
        })(),
      );
      return;
    }
    if (!this.writer) throw storeError(`SQLite ${this.path}`, this.broken ?? new Error('the store is not open'));
    const id = ++this.nextId;
    const done = new Promise<void>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    this.writer.postMessage({ id, records: records.map(withNulls), payloads });
    return done;
  }

  async addCheckpoint(cp: Checkpoint): Promise<void> {
    this.run(() => this.db.prepare('INSERT OR REPLACE INTO checkpoints (chain, position, body) VALUES (?, ?, ?)').run(cp.chain, cp.position, JSON.stringify(cp)));
  }

  async markSealed(chain: string, at: string): Promise<void> {
    this.run(() => this.db.prepare('UPDATE chains SET sealed_at = ? WHERE chain = ?').run(at, chain));
  }

  async addPublicKey(keyId: string, pem: string): Promise<void> {
    this.run(() => this.db.prepare('INSERT OR IGNORE INTO keys (key_id, public_pem, added_at) VALUES (?, ?, ?)').run(keyId, pem, new Date().toISOString()));
  }

  async publicKeys(): Promise<string[]> {
    return (this.db.prepare('SELECT public_pem FROM keys ORDER BY added_at').all() as Array<{ public_pem: string }>).map((r) => r.public_pem);
  }

  async chains(): Promise<ChainInfo[]> {
    const rows = this.db.prepare('SELECT chain, instance, started_at, sealed_at FROM chains ORDER BY started_at, chain').all() as Array<Record<string, string | null>>;
    return rows.map((r) => ({ chain: r.chain!, instance: r.instance!, startedAt: r.started_at!, ...(r.sealed_at ? { sealedAt: r.sealed_at } : {}) }));
  }

  async *records(chain: string): AsyncIterable<StoredRecord> {
    const stmt = this.db.prepare('SELECT chain, seq, prev, hash, at, kind, body FROM records WHERE chain = ? ORDER BY seq');
    for (const row of stmt.iterate(chain)) yield row as StoredRecord;
  }

  async checkpoints(chain: string): Promise<Checkpoint[]> {
    return (this.db.prepare('SELECT body FROM checkpoints WHERE chain = ? ORDER BY position').all(chain) as Array<{ body: string }>).map((r) => JSON.parse(r.body) as Checkpoint);
  }

  async query(filter: RecordFilter): Promise<StoredRecord[]> {
    if (filter.instruction !== undefined && !this.hasInstruction) return [];
    const { where, args } = filterConditions(filter, () => '?');
    const instruction = this.hasInstruction ? 'instruction' : 'NULL AS instruction';
    const sql = `SELECT chain, seq, prev, hash, at, kind, agent_id AS agent, user_id AS user, tenant, tool, verdict, session, trace, request, ${instruction}, body FROM records ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at, chain, seq LIMIT ?`;
    return this.db.prepare(sql).all(...args, filter.limit ?? 1000) as StoredRecord[];
  }

  async payloads(chain: string): Promise<PayloadRow[]> {
    return this.db.prepare('SELECT commitment, chain, at, salt, value FROM payloads WHERE chain = ? ORDER BY at').all(chain) as PayloadRow[];
  }

  async expire(before: Date): Promise<{ records: number; payloads: number }> {
    const cutoff = before.toISOString();
    return this.run(() =>
      this.db.transaction(() => {
        const records = this.db
          .prepare(
            'UPDATE records SET body = NULL, agent_id = NULL, user_id = NULL, tenant = NULL, tool = NULL, session = NULL, trace = NULL, request = NULL, instruction = NULL WHERE at < ? AND body IS NOT NULL',
          )
          .run(cutoff).changes;
        const payloads = this.db.prepare('DELETE FROM payloads WHERE at < ?').run(cutoff).changes;
        return { records, payloads };
      })(),
    );
  }

  async close(): Promise<void> {
    const writer = this.writer;
    if (writer) {
      this.writer = undefined;
      await writer.terminate();
      for (const w of this.waiting.values()) w.reject(storeError(`SQLite ${this.path}`, new Error('the store was closed')));
      this.waiting.clear();
    }
    if (this.db?.open) this.db.close();
  }

  private startWriter(): void {
    const writer = newWriter(this.path);
    writer.unref();
    writer.on('message', (m: { id: number; ok?: true; error?: string }) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.error !== undefined) w.reject(storeError(`SQLite ${this.path}`, new Error(m.error)));
      else w.resolve();
    });
    // A writer that dies fails what it held and what comes after: the log then fails closed.
    const fail = (err: Error): void => {
      for (const w of this.waiting.values()) w.reject(storeError(`SQLite ${this.path} writer`, err));
      this.waiting.clear();
      if (this.writer === writer) this.writer = undefined;
      this.broken = err;
    };
    writer.on('error', fail);
    writer.on('exit', (code) => {
      if (this.writer === writer) fail(new Error(`writer thread exited with code ${code}`));
    });
    this.writer = writer;
  }

  private run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw storeError(`SQLite ${this.path}`, err);
    }
  }
}

/**
 * The writer thread: the compiled module next to this file, or — running from source under tsx,
 * whose loader a worker does not inherit — a bootstrap that registers tsx, then loads the source.
 */
function newWriter(path: string): Worker {
  const js = new URL('./sqlite-writer.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return new Worker(js, { workerData: { path } });
  const ts = new URL('./sqlite-writer.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(ts)}); });`, { eval: true, workerData: { path } });
}

/** Files written by older versions: chains without their writer's host and pid, records without the instruction column (older records have none). */
function migrate(db: Database.Database): void {
  const columns = (table: string): string[] => columnsOf(db, table);
  if (!columns('chains').includes('pid')) db.exec('ALTER TABLE chains ADD COLUMN host TEXT; ALTER TABLE chains ADD COLUMN pid INTEGER;');
  if (!columns('records').includes('instruction')) db.exec('ALTER TABLE records ADD COLUMN instruction TEXT;');
}

function columnsOf(db: Database.Database, table: string): string[] {
  return (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function withNulls(r: StoredRecord): Record<string, unknown> {
  return { agent: null, user: null, tenant: null, tool: null, verdict: null, session: null, trace: null, request: null, instruction: null, ...r };
}

export function storeError(where: string, err: unknown): AuditError {
  return new AuditError('ERR_AUDIT_STORE', `${where}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
