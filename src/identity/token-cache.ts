import { createHash } from 'node:crypto';

/**
 * Verified tokens by SHA-256 of the token text: a repeat request skips signature and claim
 * checks. Bounded (oldest entry evicted first) and an entry never outlives its token's `exp`
 * (or the introspection cache time, whichever the caller gives). Checks that depend on the
 * request (the presented certificate) are not cached; the caller re-runs them.
 */
export class VerifiedTokenCache<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  static keyOf(token: string): string {
    return createHash('sha256').update(token).digest('base64url');
  }

  get(key: string): T | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.until <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** @param until epoch milliseconds after which the entry is gone */
  set(key: string, value: T, until: number): void {
    if (this.maxEntries === 0 || until <= this.now()) return;
    this.entries.delete(key);
    this.entries.set(key, { value, until });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
