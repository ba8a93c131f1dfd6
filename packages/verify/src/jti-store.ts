/**
 * Remembers token ids until they expire, so each is accepted once. Pluggable: several
 * replicas of one upstream need a shared store (Redis `SET jti 1 NX PXAT exp`, for example).
 */
export interface JtiStore {
  /** True the first time `jti` is seen; false if it was already used. Kept until `expiresAt` (ms). */
  useOnce(jti: string, expiresAt: number): boolean | Promise<boolean>;
}

/**
 * In-memory store for one process. Entries live until their token's expiry (plus tolerance),
 * so memory is bounded by calls per token lifetime; expired ids are swept as new ones arrive.
 */
export class MemoryJtiStore implements JtiStore {
  private readonly seen = new Map<string, number>();
  private nextSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  useOnce(jti: string, expiresAt: number): boolean {
    const now = this.now();
    if (now >= this.nextSweep) this.sweep(now);
    const until = this.seen.get(jti);
    if (until !== undefined && until > now) return false;
    this.seen.set(jti, expiresAt);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private sweep(now: number): void {
    for (const [jti, until] of this.seen) if (until <= now) this.seen.delete(jti);
    this.nextSweep = now + 1000;
  }
}
