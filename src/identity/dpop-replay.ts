/**
 * DPoP proof `jti`s seen within the acceptance window (RFC 9449 §11.1), so a captured proof
 * cannot be sent twice. Every entry lives for the same time (the whole window: a proof is
 * acceptable from `iat − max_future` until `iat + max_age`), so insertion order is expiry
 * order and expired entries are swept from the front in O(expired).
 *
 * Bounded: past `maxEntries` live entries a new proof is refused instead of forgetting an
 * older one (forgetting would reopen a replay); the caller answers 503. Only proofs that
 * passed every other check are remembered, so filling it takes valid tokens and keys.
 * In memory, per instance: several gateway instances behind one name each keep their own.
 */
export class ProofReplayCache {
  /** key → epoch ms after which the entry is gone; Map iteration order is insertion order. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly maxEntries: number,
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  /**
   * Records `key` unless it was seen within the window.
   * @returns `recorded`, `replayed` (seen before), or `full` (nothing recorded; refuse the proof)
   */
  record(key: string): 'recorded' | 'replayed' | 'full' {
    const now = this.now();
    this.sweep(now);
    if (this.seen.has(key)) return 'replayed';
    if (this.seen.size >= this.maxEntries) return 'full';
    this.seen.set(key, now + this.windowMs);
    return 'recorded';
  }

  get size(): number {
    return this.seen.size;
  }

  private sweep(now: number): void {
    for (const [key, until] of this.seen) {
      if (until > now) return;
      this.seen.delete(key);
    }
  }
}
