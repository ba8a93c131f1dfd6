import { randomUUID } from 'node:crypto';
import { AuditError } from '../pipeline/rejections.js';
import type { AuditEvent, AuditRef, AuditSink } from '../pipeline/stages.js';
import { signCheckpoint } from './checkpoint.js';
import { canonicalBytes, GENESIS, sha256Hex } from './hashing.js';
import type { AuditKeys } from './keys.js';
import { type PendingBody, pendingRecord, RECORD_VERSION, type RecordBody } from './record.js';
import type { Commitment, Redactor } from './redaction.js';
import { type AuditStore, columnsOf, type PayloadRow, type StoredRecord } from './store.js';

export interface ChainedLogOptions {
  instance: string;
  checkpointEverySeconds: number;
  checkpointEveryRecords: number;
  retentionDays: number;
  /** Resolve record() even when the store failed (the record is lost). Off: fail closed. */
  failOpen: boolean;
  /** Largest group commit. */
  maxBatch?: number;
  /**
   * How long a record nobody waits on (LINGERING_KINDS) may wait for a commit someone waits on,
   * before it is committed on its own; default 2 ms.
   */
  lingerMs?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export type AuditLogState = 'ready' | 'failing' | 'closed';

/**
 * Kinds the gateway records without holding anything up for them: the outcome of a call already
 * answered, session start and end, the summary of a list call. They do not start a commit of their
 * own while a call is about to need one: they ride in the next commit a decision starts (one fsync
 * per call instead of two), or are committed after `lingerMs`. Every other kind starts a commit at
 * once; their chain positions are still assigned in arrival order.
 */
const LINGERING_KINDS = new Set(['outcome', 'session.start', 'session.end', 'list']);

interface Queued {
  body: PendingBody;
  /** Someone may be waiting for this record before going on: commit without lingering. */
  urgent: boolean;
  commitments: Commitment[];
  resolve(ref: AuditRef | void): void;
  reject(err: Error): void;
  /** The stored form, prepared as soon as the record arrives (position and link provisional). */
  row?: StoredRecord;
}

/**
 * The tamper-evident log of one gateway run: one chain, records appended in arrival order,
 * each linking to the previous one's hash. Records are written in short group commits — every
 * record that arrives while a commit is on its way goes into the next one; records nobody waits
 * on linger for the next one someone does (LINGERING_KINDS) — and record() resolves only once its
 * commit is durable. A record is hashed as soon as it arrives, while the
 * previous commit is still on its way (the work overlaps the disk wait), with a provisional
 * position; a failed commit re-links every record not yet written to the last durable one, so
 * the chain never has a gap.
 */
export class ChainedAuditLog implements AuditSink {
  readonly chain = randomUUID();
  state: AuditLogState = 'ready';
  lastError?: string;
  /** Last durable position and hash. */
  private seq = -1;
  private head = GENESIS;
  /** Last prepared (queued, maybe not yet durable) position and hash. */
  private preparedSeq = -1;
  private preparedHead = GENESIS;
  private checkpointed = -1;
  /** When the last checkpoint was signed (ms since the epoch); undefined before the first. */
  private checkpointedAt: number | undefined;
  /** Told how long each group commit's store write took (metrics). */
  onCommit: ((seconds: number) => void) | undefined;
  private queue: Queued[] = [];
  private writing: Promise<void> | undefined;
  private scheduled = false;
  private lingering: NodeJS.Timeout | undefined;
  private timers: NodeJS.Timeout[] = [];
  private readonly maxBatch: number;
  private readonly lingerMs: number;

  private constructor(
    private readonly store: AuditStore,
    private readonly keys: AuditKeys,
    private readonly redactor: Redactor,
    private readonly options: ChainedLogOptions,
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.lingerMs = options.lingerMs ?? 2;
  }

  /** Opens the store, seals chains left open by a crash, starts this run's chain. */
  static async open(store: AuditStore, keys: AuditKeys, redactor: Redactor, options: ChainedLogOptions): Promise<ChainedAuditLog> {
    await store.open();
    const log = new ChainedAuditLog(store, keys, redactor, options);
    try {
      await store.addPublicKey(keys.keyId, keys.publicKeyPem);
      await store.startChain({ chain: log.chain, instance: options.instance, startedAt: new Date().toISOString() });
      const sealed = await log.sealOrphans();
      await log.expire();
      await log.record({
        kind: 'chain.start',
        at: new Date(),
        detail: { instance: options.instance, store: store.kind, keyId: keys.keyId, schema: RECORD_VERSION, sealedChains: sealed },
      });
      await log.checkpoint();
    } catch (err) {
      await store.close();
      throw err;
    }
    const every = setInterval(() => void log.checkpoint().catch(() => undefined), options.checkpointEverySeconds * 1000);
    const daily = setInterval(() => void log.expire().catch(() => undefined), 24 * 3600 * 1000);
    every.unref();
    daily.unref();
    log.timers.push(every, daily);
    return log;
  }

  get position(): number {
    return this.seq;
  }

  get storeKind(): string {
    return this.store.kind;
  }

  record(event: AuditEvent): Promise<AuditRef | void> {
    if (this.state === 'closed') return Promise.reject(new AuditError('ERR_AUDIT_CLOSED', 'the audit log is closed'));
    return new Promise((resolve, reject) => {
      let q: Queued;
      try {
        const { body, commitments } = pendingRecord(event, this.redactor);
        q = { body, commitments, urgent: !LINGERING_KINDS.has(event.kind), resolve, reject };
        this.prepare(q);
      } catch (err) {
        // A value RFC 8785 cannot write (the pipeline keeps such values out of its records): this
        // record is refused, the chain goes on untouched.
        reject(new AuditError('ERR_AUDIT_UNWRITABLE', `a ${event.kind} record cannot be written: ${(err as Error).message}`, { cause: err }));
        return;
      }
      this.queue.push(q);
      this.schedule(q.urgent);
    });
  }

  /** Records waiting for a commit (not the one on its way). */
  get queueDepth(): number {
    return this.queue.length;
  }

  /** Seconds since the last checkpoint was signed; undefined before the first. */
  checkpointAgeSeconds(): number | undefined {
    return this.checkpointedAt === undefined ? undefined : (Date.now() - this.checkpointedAt) / 1000;
  }

  /** For /readyz. */
  readiness(): { ready: boolean; body: Record<string, unknown> } {
    const body: Record<string, unknown> = { state: this.state, store: this.store.kind, location: this.store.location, chain: this.chain, position: this.seq };
    if (this.lastError) body.lastError = this.lastError;
    if (this.options.failOpen) body.failOpen = true;
    return { ready: this.state === 'ready', body };
  }

  /** Writes what is queued, seals the chain with a final record and checkpoint, closes the store. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    for (const t of this.timers) clearInterval(t);
    await this.drain();
    try {
      const ref = await this.record({ kind: 'chain.seal', at: new Date(), detail: { reason: 'shutdown' } });
      await this.drain();
      await this.checkpoint();
      if (ref) await this.store.markSealed(this.chain, new Date().toISOString());
    } catch (err) {
      this.options.log?.('error', `audit: could not seal chain ${this.chain}: ${(err as Error).message}`);
    }
    this.state = 'closed';
    await this.store.close();
  }

  /** Signs the durable head (seq and head only ever hold committed values), unless already signed. */
  async checkpoint(): Promise<void> {
    if (this.seq < 0 || this.seq === this.checkpointed) return;
    const position = this.seq;
    await this.store.addCheckpoint(signCheckpoint({ chain: this.chain, position, head: this.head, at: new Date().toISOString() }, this.keys.signing, this.keys.keyId));
    this.checkpointed = Math.max(this.checkpointed, position);
    this.checkpointedAt = Date.now();
  }

  private async drain(): Promise<void> {
    while (this.writing || this.queue.length > 0) {
      if (this.writing) await this.writing;
      else this.flush();
    }
  }

  /** A commit on its way takes what is queued when it is done (flush); else start one, now or after lingering. */
  private schedule(urgent: boolean): void {
    if (this.scheduled || this.writing) return;
    if (!urgent) {
      this.lingering ??= setTimeout(() => {
        this.lingering = undefined;
        if (!this.writing && !this.scheduled) this.flush();
      }, this.lingerMs).unref();
      return;
    }
    this.scheduled = true;
    // One turn of the event loop gathers every record that arrived meanwhile into one commit.
    setImmediate(() => {
      this.scheduled = false;
      if (!this.writing) this.flush();
    });
  }

  private flush(): void {
    if (this.lingering) {
      clearTimeout(this.lingering);
      this.lingering = undefined;
    }
    if (this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.maxBatch);
    this.writing = this.write(batch).finally(() => {
      this.writing = undefined;
      if (this.queue.some((q) => q.urgent)) this.flush();
      else if (this.queue.length > 0) this.schedule(false);
    });
  }

  /** Canonical bytes, hash and link of a queued record, continuing from the last prepared one. */
  private prepare(q: Queued): void {
    const seq = this.preparedSeq + 1;
    const body = { ...q.body, chain: this.chain, seq, prev: this.preparedHead } as RecordBody;
    const bytes = canonicalBytes(body);
    const hash = sha256Hex(bytes);
    q.row = { chain: this.chain, seq, prev: body.prev, hash, at: body.at, kind: body.kind, ...columnsOf(body), body: bytes };
    this.preparedSeq = seq;
    this.preparedHead = hash;
  }

  private async write(batch: Queued[]): Promise<void> {
    const rows = batch.map((q) => q.row!);
    const payloads: PayloadRow[] = [];
    for (const q of batch) for (const c of q.commitments) payloads.push({ commitment: c.commitment, chain: this.chain, at: q.row!.at, salt: c.salt, value: c.value });
    const started = performance.now();
    try {
      await this.store.append(rows, payloads);
      this.onCommit?.((performance.now() - started) / 1000);
    } catch (err) {
      this.fail(err, batch);
      // What is still queued was linked to records that are not durable: link it again.
      this.preparedSeq = this.seq;
      this.preparedHead = this.head;
      for (const q of this.queue) this.prepare(q);
      return;
    }
    const last = rows[rows.length - 1]!;
    this.seq = last.seq;
    this.head = last.hash;
    if (this.state === 'failing') {
      this.state = 'ready';
      this.options.log?.('info', `audit: store ${this.store.location} writes again`);
    }
    for (const q of batch) q.resolve({ chain: this.chain, position: q.row!.seq, hash: q.row!.hash });
    if (this.seq - this.checkpointed >= this.options.checkpointEveryRecords) void this.checkpoint().catch(() => undefined);
  }

  private fail(err: unknown, batch: Queued[]): void {
    const message = err instanceof Error ? err.message : String(err);
    this.lastError = message;
    if (this.state !== 'closed') this.state = 'failing';
    this.options.log?.('error', `audit: ${batch.length} record(s) not written: ${message}${this.options.failOpen ? ' (fail_open: calls go on unrecorded)' : ''}`);
    for (const q of batch) {
      if (this.options.failOpen) q.resolve();
      else q.reject(err instanceof AuditError ? err : new AuditError('ERR_AUDIT_STORE', message, { cause: err }));
    }
  }

  /** Ends chains whose writer died: a seal record continues each one, then a checkpoint signs it. */
  private async sealOrphans(): Promise<string[]> {
    const sealed: string[] = [];
    for (const tail of await this.store.claimOrphanedChains()) {
      const body: RecordBody = {
        v: RECORD_VERSION,
        chain: tail.chain,
        seq: tail.seq + 1,
        prev: tail.hash,
        at: new Date().toISOString(),
        kind: 'chain.seal',
        detail: { reason: 'recovered after the writer stopped without sealing', sealedBy: this.chain },
      };
      const bytes = canonicalBytes(body);
      const hash = sha256Hex(bytes);
      await this.store.append([{ chain: tail.chain, seq: body.seq, prev: body.prev, hash, at: body.at, kind: body.kind, body: bytes }], []);
      await this.store.addCheckpoint(signCheckpoint({ chain: tail.chain, position: body.seq, head: hash, at: body.at }, this.keys.signing, this.keys.keyId));
      await this.store.markSealed(tail.chain, body.at);
      sealed.push(tail.chain);
      this.options.log?.('warn', `audit: sealed chain ${tail.chain} at position ${body.seq}; its writer stopped without closing it`);
    }
    return sealed;
  }

  private async expire(): Promise<void> {
    const before = new Date(Date.now() - this.options.retentionDays * 24 * 3600 * 1000);
    const removed = await this.store.expire(before);
    if (removed.records + removed.payloads > 0)
      this.options.log?.('info', `audit: retention removed ${removed.records} record payload(s) and ${removed.payloads} committed value(s) older than ${before.toISOString()}`);
  }
}
