import pg from 'pg';
import { AuditError } from '../pipeline/rejections.js';
import type { Checkpoint } from './checkpoint.js';
import { storeError } from './sqlite-store.js';
import { type AuditStore, type ChainInfo, type ChainTail, filterConditions, type PayloadRow, type RecordFilter, type StoredRecord } from './store.js';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The shared store for several instances: PostgreSQL, one chain per instance run, so writers
 * never wait on each other's row locks (one global chain would serialise every commit behind
 * one lock: measured at ~700 rows/s on our machines). Bodies are `text`, never `jsonb`: the bytes
 * stored are the bytes hashed. Each chain's writer holds a session advisory lock on it for as
 * long as it lives; a chain nobody holds and nobody sealed belongs to a writer that died, and
 * the next instance to start seals it.
 */
export class PostgresAuditStore implements AuditStore {
  readonly kind = 'postgres';
  private pool!: pg.Pool;
  /** One connection for all writes: it holds the advisory locks. */
  private writer?: pg.PoolClient;
  private readonly ownChains = new Set<string>();
  /** False on a schema from before the instruction column, opened read-only (it cannot be migrated). */
  private hasInstruction = true;
  private writerLost = false;

  constructor(
    private readonly url: string,
    private readonly schema: string,
    private readonly options: { readonly?: boolean } = {},
  ) {
    if (!SCHEMA_NAME.test(schema)) throw new AuditError('ERR_AUDIT_STORE', `PostgreSQL schema name "${schema}" must be lowercase letters, digits and _`);
  }

  get location(): string {
    const u = new URL(this.url);
    return `postgres://${u.host}${u.pathname} schema ${this.schema}`;
  }

  async open(): Promise<void> {
    this.pool = new pg.Pool({ connectionString: this.url, max: 4, application_name: `toolgate audit ${this.schema}`.slice(0, 63) });
    // An idle client's error (server restart) must not crash the process; the next query reports it.
    this.pool.on('error', () => undefined);
    try {
      if (this.options.readonly) {
        const found = await this.pool.query("SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'records' AND column_name = 'instruction'", [
          this.schema,
        ]);
        this.hasInstruction = found.rowCount !== 0;
        return;
      }
      this.writer = await this.pool.connect();
      this.writer.on('error', () => {
        this.writerLost = true;
      });
      const s = this.schema;
      await this.writer.query(`
        CREATE SCHEMA IF NOT EXISTS ${s};
        CREATE TABLE IF NOT EXISTS ${s}.chains (chain text PRIMARY KEY, instance text NOT NULL, started_at text NOT NULL, sealed_at text);
        CREATE TABLE IF NOT EXISTS ${s}.records (
          chain text NOT NULL, seq bigint NOT NULL, prev text NOT NULL, hash text NOT NULL, at text NOT NULL, kind text NOT NULL,
          agent_id text, user_id text, tenant text, tool text, verdict text, session text, trace text, request text, instruction text,
          body text, PRIMARY KEY (chain, seq));
        ALTER TABLE ${s}.records ADD COLUMN IF NOT EXISTS instruction text;
        CREATE INDEX IF NOT EXISTS records_at ON ${s}.records (at);
        CREATE TABLE IF NOT EXISTS ${s}.checkpoints (chain text NOT NULL, position bigint NOT NULL, body text NOT NULL, PRIMARY KEY (chain, position));
        CREATE TABLE IF NOT EXISTS ${s}.payloads (commitment text PRIMARY KEY, chain text NOT NULL, at text NOT NULL, salt text NOT NULL, value text NOT NULL);
        CREATE TABLE IF NOT EXISTS ${s}.keys (key_id text PRIMARY KEY, public_pem text NOT NULL, added_at text NOT NULL);
      `);
    } catch (err) {
      await this.close();
      throw storeError(`cannot open ${this.location}`, err);
    }
  }

  async startChain(info: ChainInfo): Promise<void> {
    await this.write(async (c) => {
      await c.query(`INSERT INTO ${this.schema}.chains (chain, instance, started_at) VALUES ($1, $2, $3)`, [info.chain, info.instance, info.startedAt]);
      await c.query('SELECT pg_advisory_lock($1)', [lockKey(info.chain)]);
    });
    this.ownChains.add(info.chain);
  }

  async claimOrphanedChains(): Promise<ChainTail[]> {
    return this.write(async (c) => {
      const open = await c.query<{ chain: string }>(`SELECT chain FROM ${this.schema}.chains WHERE sealed_at IS NULL ORDER BY started_at`);
      const tails: ChainTail[] = [];
      for (const { chain } of open.rows) {
        if (this.ownChains.has(chain)) continue;
        const held = await c.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1) AS got', [lockKey(chain)]);
        if (!held.rows[0]!.got) continue; // its writer is alive, or another instance is sealing it
        const tail = await c.query<{ seq: string; hash: string }>(`SELECT seq, hash FROM ${this.schema}.records WHERE chain = $1 ORDER BY seq DESC LIMIT 1`, [chain]);
        if (tail.rows[0]) tails.push({ chain, seq: Number(tail.rows[0].seq), hash: tail.rows[0].hash });
        else await c.query('SELECT pg_advisory_unlock($1)', [lockKey(chain)]);
      }
      return tails;
    });
  }

  async append(records: StoredRecord[], payloads: PayloadRow[]): Promise<void> {
    if (records.length === 0 && payloads.length === 0) return;
    await this.write(async (c) => {
      await c.query('BEGIN');
      try {
        if (records.length > 0) {
          const cols = ['chain', 'seq', 'prev', 'hash', 'at', 'kind', 'agent', 'user', 'tenant', 'tool', 'verdict', 'session', 'trace', 'request', 'instruction', 'body'] as const;
          const arrays = cols.map((k) => records.map((r) => (r[k] ?? null) as unknown));
          await c.query(
            `INSERT INTO ${this.schema}.records (chain, seq, prev, hash, at, kind, agent_id, user_id, tenant, tool, verdict, session, trace, request, instruction, body)
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[])`,
            arrays,
          );
        }
        if (payloads.length > 0) {
          const cols = ['commitment', 'chain', 'at', 'salt', 'value'] as const;
          await c.query(
            `INSERT INTO ${this.schema}.payloads (commitment, chain, at, salt, value) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) ON CONFLICT DO NOTHING`,
            cols.map((k) => payloads.map((p) => p[k])),
          );
        }
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  async addCheckpoint(cp: Checkpoint): Promise<void> {
    await this.write((c) =>
      c.query(`INSERT INTO ${this.schema}.checkpoints (chain, position, body) VALUES ($1, $2, $3) ON CONFLICT (chain, position) DO UPDATE SET body = EXCLUDED.body`, [
        cp.chain,
        cp.position,
        JSON.stringify(cp),
      ]),
    );
  }

  async markSealed(chain: string, at: string): Promise<void> {
    await this.write(async (c) => {
      await c.query(`UPDATE ${this.schema}.chains SET sealed_at = $2 WHERE chain = $1`, [chain, at]);
      await c.query('SELECT pg_advisory_unlock($1)', [lockKey(chain)]);
    });
  }

  async addPublicKey(keyId: string, pem: string): Promise<void> {
    await this.write((c) =>
      c.query(`INSERT INTO ${this.schema}.keys (key_id, public_pem, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [keyId, pem, new Date().toISOString()]),
    );
  }

  async publicKeys(): Promise<string[]> {
    return (await this.read<{ public_pem: string }>(`SELECT public_pem FROM ${this.schema}.keys ORDER BY added_at`)).map((r) => r.public_pem);
  }

  async chains(): Promise<ChainInfo[]> {
    const rows = await this.read<Record<string, string | null>>(`SELECT chain, instance, started_at, sealed_at FROM ${this.schema}.chains ORDER BY started_at, chain`);
    return rows.map((r) => ({ chain: r.chain!, instance: r.instance!, startedAt: r.started_at!, ...(r.sealed_at ? { sealedAt: r.sealed_at } : {}) }));
  }

  async *records(chain: string): AsyncIterable<StoredRecord> {
    let after = -1;
    for (;;) {
      const rows = await this.read<StoredRecord & { seq: string }>(
        `SELECT chain, seq, prev, hash, at, kind, body FROM ${this.schema}.records WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT 5000`,
        [chain, after],
      );
      for (const r of rows) yield { ...r, seq: Number(r.seq) };
      if (rows.length < 5000) return;
      after = Number(rows[rows.length - 1]!.seq);
    }
  }

  async checkpoints(chain: string): Promise<Checkpoint[]> {
    return (await this.read<{ body: string }>(`SELECT body FROM ${this.schema}.checkpoints WHERE chain = $1 ORDER BY position`, [chain])).map(
      (r) => JSON.parse(r.body) as Checkpoint,
    );
  }

  async query(filter: RecordFilter): Promise<StoredRecord[]> {
    if (filter.instruction !== undefined && !this.hasInstruction) return [];
    const { where, args } = filterConditions(
      filter,
      (n) => `$${n}`,
      (column, needle) => `strpos(${column}, ${needle}) > 0`,
    );
    args.push(filter.limit ?? 1000);
    const rows = await this.read<StoredRecord & { seq: string }>(
      `SELECT chain, seq, prev, hash, at, kind, agent_id AS agent, user_id AS "user", tenant, tool, verdict, session, trace, request, ${this.hasInstruction ? 'instruction' : 'NULL AS instruction'}, body FROM ${this.schema}.records ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at, chain, seq LIMIT $${args.length}`,
      args,
    );
    return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
  }

  async payloads(chain: string): Promise<PayloadRow[]> {
    return this.read<PayloadRow>(`SELECT commitment, chain, at, salt, value FROM ${this.schema}.payloads WHERE chain = $1 ORDER BY at`, [chain]);
  }

  async expire(before: Date): Promise<{ records: number; payloads: number }> {
    return this.write(async (c) => {
      const cutoff = before.toISOString();
      const r = await c.query(
        `UPDATE ${this.schema}.records SET body = NULL, agent_id = NULL, user_id = NULL, tenant = NULL, tool = NULL, session = NULL, trace = NULL, request = NULL, instruction = NULL WHERE at < $1 AND body IS NOT NULL`,
        [cutoff],
      );
      const p = await c.query(`DELETE FROM ${this.schema}.payloads WHERE at < $1`, [cutoff]);
      return { records: r.rowCount ?? 0, payloads: p.rowCount ?? 0 };
    });
  }

  async close(): Promise<void> {
    this.writer?.release(this.writerLost);
    this.writer = undefined;
    const pool = this.pool;
    this.pool = undefined as unknown as pg.Pool;
    await pool?.end().catch(() => undefined);
  }

  private async write<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.options.readonly || !this.pool) throw new AuditError('ERR_AUDIT_STORE', `${this.location} is not open for writing`);
    try {
      if (!this.writer) await this.reconnect();
      return await fn(this.writer!);
    } catch (err) {
      if ((this.writerLost || connectionLost(err)) && this.writer) {
        this.writer.release(true);
        this.writer = undefined;
      }
      throw storeError(`PostgreSQL ${this.location}`, err);
    }
  }

  /**
   * After the writer connection was lost (server restart, network): a new one, holding this
   * store's chain locks again — unless another instance took a chain over meanwhile (it saw the
   * lock free and sealed the chain as crashed), in which case this run cannot go on writing it.
   */
  private async reconnect(): Promise<void> {
    const c = await this.pool.connect();
    this.writerLost = false;
    c.on('error', () => {
      this.writerLost = true;
    });
    try {
      for (const chain of this.ownChains) {
        // A terminated backend lets go of its locks a moment after it was told to: wait up to 1 s.
        let got = false;
        for (let attempt = 0; attempt < 20 && !got; attempt++) {
          if (attempt > 0) await new Promise((r) => setTimeout(r, 50));
          got = (await c.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1) AS got', [lockKey(chain)])).rows[0]!.got;
        }
        const sealed = (await c.query(`SELECT 1 FROM ${this.schema}.chains WHERE chain = $1 AND sealed_at IS NOT NULL`, [chain])).rowCount;
        if (sealed) throw new Error(`chain ${chain} was sealed by another instance while the connection was lost; restart the gateway to start a new chain`);
        // The server may not have noticed the old connection is gone yet; the next write tries again.
        if (!got) throw new Error(`chain ${chain} is still locked by the lost connection; retrying with the next record`);
      }
    } catch (err) {
      c.release(true);
      throw err;
    }
    this.writer = c;
  }

  private async read<T>(sql: string, args: unknown[] = []): Promise<T[]> {
    try {
      return (await this.pool.query(sql, args)).rows as T[];
    } catch (err) {
      throw storeError(`PostgreSQL ${this.location}`, err);
    }
  }
}

/**
 * True unless the error is the server's answer on a working connection: those carry a SQLSTATE
 * (five characters), except the ones that say the session itself ended (57P…, 08…).
 */
function connectionLost(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return !(typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !/^(57P|08)/.test(code));
}

/** A 64-bit advisory lock key per chain id. */
function lockKey(chain: string): string {
  let h = 0xcbf29ce484222325n;
  for (const ch of Buffer.from(`toolgate-audit:${chain}`)) h = ((h ^ BigInt(ch)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return BigInt.asIntN(64, h).toString();
}
