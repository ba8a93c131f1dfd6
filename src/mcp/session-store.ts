import type { ClientSession } from './session.js';

/** In-memory sessions with idle expiry. (Redis-backed state for scale-out comes later.) */
export class SessionStore {
  private readonly sessions = new Map<string, ClientSession>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly idleMs: number,
    private readonly onExpire: (s: ClientSession) => void = () => undefined,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(60_000, Math.max(1000, idleMs / 4)));
    this.sweeper.unref();
  }

  add(session: ClientSession): void {
    this.sessions.set(session.id, session);
  }

  get(id: string): ClientSession | undefined {
    const s = this.sessions.get(id);
    if (s) s.lastSeen = Date.now();
    return s;
  }

  delete(id: string): ClientSession | undefined {
    const s = this.sessions.get(id);
    if (s) {
      this.sessions.delete(id);
      s.close();
    }
    return s;
  }

  get size(): number {
    return this.sessions.size;
  }

  all(): IterableIterator<ClientSession> {
    return this.sessions.values();
  }

  closeAll(): void {
    for (const id of [...this.sessions.keys()]) this.delete(id);
    clearInterval(this.sweeper);
  }

  private sweep(): void {
    const cutoff = Date.now() - this.idleMs;
    for (const s of [...this.sessions.values()]) {
      if (s.lastSeen < cutoff && s.inFlight.size === 0) {
        this.delete(s.id);
        this.onExpire(s);
      }
    }
  }
}
