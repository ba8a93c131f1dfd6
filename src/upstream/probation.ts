/*
 * Probation of a session that session recovery produced (recovery itself: the note in
 * client.ts; the loss rule: src/upstream/transport/http-session.ts).
 *
 * A refusal is only a guess at session loss (a 400 can mean other things), so a session that
 * recovery produced is on probation: until a request is accepted on it, refusals are passed on
 * as errors rather than taken for another loss. Probation also ends by time (1 s, doubling per
 * recovery that nothing proved, up to 30 s), so an upstream that restarts twice in a row is
 * still recovered. An upstream that refuses every request therefore costs one handshake per
 * probation window at most, and only while calls keep coming.
 */

const PROBATION_MS = 1000;
const MAX_PROBATION_MS = 30_000;

/** The probation of one upstream's current session. */
export class Probation {
  /** The current session came from a recovery, and neither an accepted request nor time has cleared it yet. */
  private on = false;
  private timer?: NodeJS.Timeout;
  private windowMs = PROBATION_MS;

  /** While true, a refusal is an error to pass on, not a session loss to recover from. */
  get active(): boolean {
    return this.on;
  }

  /** A recovery made a new session: it is on probation for the next window, and the one after is longer. */
  start(): void {
    clearTimeout(this.timer);
    this.on = true;
    this.timer = setTimeout(() => this.end(false), this.windowMs);
    this.timer.unref?.();
    this.windowMs = Math.min(this.windowMs * 2, MAX_PROBATION_MS);
  }

  /** `proven`: a request was accepted (the session works), so the next window starts short again. */
  end(proven: boolean): void {
    if (!this.on && (!proven || this.windowMs === PROBATION_MS)) return; // the common case: nothing to end
    clearTimeout(this.timer);
    this.on = false;
    if (proven) this.windowMs = PROBATION_MS;
  }

  /** The client is closing: the clock stops. */
  dispose(): void {
    clearTimeout(this.timer);
  }
}
