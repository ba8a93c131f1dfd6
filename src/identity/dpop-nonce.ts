import { randomBytes } from 'node:crypto';

/**
 * Server-provided DPoP nonces (RFC 9449 §8): a random value that is current for one period,
 * then accepted for one more period as the previous one, so a client that fetched a nonce just
 * before a rotation is not refused. Rotation is lazy (on the next look after the period ends):
 * no timer, and the injected clock drives it in tests.
 */
export class DpopNonces {
  private value = fresh();
  private previous: string | undefined;
  private rotatedAt: number;

  constructor(
    private readonly periodMs: number,
    private readonly now: () => number,
  ) {
    this.rotatedAt = now();
  }

  /** The nonce to hand out in `DPoP-Nonce`. */
  get current(): string {
    this.rotate();
    return this.value;
  }

  accepts(nonce: unknown): boolean {
    this.rotate();
    return typeof nonce === 'string' && (nonce === this.value || nonce === this.previous);
  }

  private rotate(): void {
    const elapsed = this.now() - this.rotatedAt;
    if (elapsed < this.periodMs) return;
    // After two idle periods the old current value is too old to be the "previous" one.
    this.previous = elapsed < 2 * this.periodMs ? this.value : undefined;
    this.value = fresh();
    this.rotatedAt = this.now();
  }
}

function fresh(): string {
  return randomBytes(16).toString('base64url');
}
