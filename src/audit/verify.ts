import { type Checkpoint, checkpointSignatureValid, type TrustedKeys } from './checkpoint.js';
import { GENESIS, sha256Hex } from './hashing.js';

/** What a verifier found wrong, named by the first record position it concerns. */
export type TamperKind = 'edited' | 'removed' | 'inserted' | 'reordered' | 'truncated' | 'bad-checkpoint';

export interface TamperFinding {
  chain: string;
  /** Position of the first bad (or first missing) record. */
  position: number;
  kind: TamperKind;
  message: string;
}

export interface ChainReport {
  chain: string;
  records: number;
  /** Records whose body retention removed: checked by hash link only. */
  expired: number;
  checkpoints: number;
  lastPosition: number;
  sealed: boolean;
  finding?: TamperFinding;
}

/** A record as a verifier sees it: position and link columns, the stored hash, and the hashed bytes when still kept. */
export interface VerifiableRecord {
  seq: number;
  prev: string;
  hash: string;
  body?: string | null;
}

interface Seen {
  seq: number;
  prev: string;
  hash: string;
  kind?: string;
  /** Set when the record contradicts itself (bytes vs stored hash or columns). */
  edited?: string;
}

/**
 * Checks one chain: every record's bytes against its hash, the positions 0,1,2… in order, every
 * link to the previous record's hash, every checkpoint's signature against a trusted key and its
 * head against the record at its position, and that a sealed chain still ends with its seal.
 * Reports the first thing wrong by position, and what kind of tampering it shows.
 */
export class ChainVerifier {
  private readonly seen: Seen[] = [];
  private expired = 0;

  constructor(readonly chain: string) {}

  add(record: VerifiableRecord): void {
    const s: Seen = { seq: record.seq, prev: record.prev, hash: record.hash };
    if (record.body === null || record.body === undefined) {
      this.expired += 1;
    } else {
      const computed = sha256Hex(record.body);
      let body: { chain?: unknown; seq?: unknown; prev?: unknown; kind?: unknown } | undefined;
      try {
        body = JSON.parse(record.body) as typeof body;
      } catch {
        body = undefined;
      }
      s.kind = typeof body?.kind === 'string' ? body.kind : undefined;
      if (!body) s.edited = 'its bytes are no longer JSON';
      else if (computed !== record.hash) s.edited = 'its content no longer matches its hash';
      else if (body.chain !== this.chain || typeof body.seq !== 'number' || typeof body.prev !== 'string') s.edited = 'its chain or position fields do not belong to this chain';
      else {
        // The hashed bytes say where the record belongs; the store's columns are only an index.
        s.seq = body.seq;
        s.prev = body.prev;
      }
      s.hash = computed;
    }
    this.seen.push(s);
  }

  finish(checkpoints: Checkpoint[], keys: TrustedKeys, sealed: boolean): ChainReport {
    const findings = [this.walk(), this.checkCheckpoints(checkpoints, keys), this.checkSeal(sealed)].filter((f): f is TamperFinding => f !== undefined);
    findings.sort((a, b) => a.position - b.position);
    const last = this.seen[this.seen.length - 1];
    return {
      chain: this.chain,
      records: this.seen.length,
      expired: this.expired,
      checkpoints: checkpoints.length,
      lastPosition: last ? last.seq : -1,
      sealed: last?.kind === 'chain.seal',
      ...(findings[0] ? { finding: findings[0] } : {}),
    };
  }

  private walk(): TamperFinding | undefined {
    const rows = this.seen;
    const at = new Map<number, number>();
    rows.forEach((r, i) => {
      if (!at.has(r.seq)) at.set(r.seq, i);
    });
    let expected = 0;
    let prevHash = GENESIS;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      if (r.edited) return this.found(r.seq, 'edited', `record ${r.seq} was edited: ${r.edited}`);
      if (i > 0 && rows[i - 1]!.kind === 'chain.seal') return this.found(r.seq, 'inserted', `record ${r.seq} follows the chain's seal record: it was added after the chain ended`);
      if (r.seq > expected) {
        const later = at.get(expected);
        if (later !== undefined && later > i) return this.found(expected, 'reordered', `record ${expected} is stored after record ${r.seq}: records were reordered`);
        const missing = r.seq - expected === 1 ? `record ${expected} is missing` : `records ${expected} to ${r.seq - 1} are missing`;
        return this.found(expected, 'removed', `${missing}: removed from the chain`);
      }
      if (r.seq < expected) {
        if (r.seq === expected - 1 && r.prev === rows[i - 1]!.prev) {
          // Two records claim one position: the one the next record links to is the original.
          const next = rows[i + 1];
          const forgedIsPrevious = next !== undefined && next.prev === r.hash;
          return this.found(
            r.seq,
            'inserted',
            `a second record claims position ${r.seq}; the ${forgedIsPrevious ? 'first' : 'second'} of the two (hash ${(forgedIsPrevious ? rows[i - 1]! : r).hash.slice(0, 12)}…) is not part of the chain: it was inserted`,
          );
        }
        return this.found(Math.min(r.seq, expected), 'reordered', `record ${r.seq} is stored after record ${expected - 1}: records were reordered`);
      }
      if (r.prev !== prevHash) {
        if (i >= 2 && r.prev === rows[i - 2]!.hash)
          return this.found(
            rows[i - 1]!.seq,
            'inserted',
            `record ${rows[i - 1]!.seq} is not linked to by the record after it, which links to record ${rows[i - 2]!.seq}: it was inserted`,
          );
        if (i === 0) return this.found(r.seq, 'edited', `record ${r.seq} does not start from the genesis link: the start of the chain was altered`);
        return this.found(rows[i - 1]!.seq, 'edited', `record ${rows[i - 1]!.seq} is not the record that record ${r.seq} links to: it was altered and re-hashed, or replaced`);
      }
      prevHash = r.hash;
      expected = r.seq + 1;
    }
    return undefined;
  }

  private checkCheckpoints(checkpoints: Checkpoint[], keys: TrustedKeys): TamperFinding | undefined {
    const last = this.seen.length > 0 ? this.seen[this.seen.length - 1]!.seq : -1;
    const hashAt = new Map(this.seen.map((r) => [r.seq, r.hash]));
    let verifiedUpTo = -1;
    for (const cp of [...checkpoints].sort((a, b) => a.position - b.position)) {
      if (cp.chain !== this.chain || !checkpointSignatureValid(cp, keys)) {
        return this.found(
          cp.position,
          'bad-checkpoint',
          `the checkpoint at position ${cp.position} is not signed by a trusted key (key ${cp.keyId?.slice(0, 16)}…): forged or altered`,
        );
      }
      if (cp.position > last) {
        return this.found(
          last + 1,
          'truncated',
          `a signed checkpoint covers position ${cp.position} but the chain ends at ${last}: records ${last + 1} to ${cp.position} were cut off`,
        );
      }
      if (hashAt.get(cp.position) !== cp.head) {
        return this.found(
          verifiedUpTo + 1,
          'edited',
          `the records between positions ${verifiedUpTo + 1} and ${cp.position} are not the ones the checkpoint at ${cp.position} signed: rewritten`,
        );
      }
      verifiedUpTo = cp.position;
    }
    return undefined;
  }

  private checkSeal(sealedInIndex: boolean): TamperFinding | undefined {
    const last = this.seen[this.seen.length - 1];
    // An expired seal (body removed by retention) is still a seal as far as its link shows.
    const expiredTail = last !== undefined && last.kind === undefined && last.edited === undefined;
    if (sealedInIndex && last?.kind !== 'chain.seal' && !expiredTail) {
      const next = last ? last.seq + 1 : 0;
      return this.found(next, 'truncated', `the chain is recorded as sealed but its seal record is gone: records from ${next} on were cut off`);
    }
    return undefined;
  }

  private found(position: number, kind: TamperKind, message: string): TamperFinding {
    return { chain: this.chain, position, kind, message };
  }
}

export interface VerifyReport {
  ok: boolean;
  chains: ChainReport[];
  /** Key ids the checkpoints were checked against. */
  trustedKeyIds: string[];
  /** The first finding across chains, if any. */
  finding?: TamperFinding;
}

export function summarise(chains: ChainReport[], keys: TrustedKeys): VerifyReport {
  const finding = chains.find((c) => c.finding)?.finding;
  return { ok: finding === undefined, chains, trustedKeyIds: [...keys.keys()], ...(finding ? { finding } : {}) };
}
