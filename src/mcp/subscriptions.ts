/**
 * Resource subscriptions across sessions. Upstream connections are shared, so the upstream is
 * subscribed once per URI (first subscriber) and unsubscribed when the last one leaves; its
 * resources/updated notifications fan out to exactly the sessions that subscribed.
 */
export class SubscriptionTable {
  private readonly byUri = new Map<string, Set<string>>();

  /** Returns true when this is the URI's first subscriber (the upstream must be told). */
  add(uri: string, sessionId: string): boolean {
    let set = this.byUri.get(uri);
    const first = !set;
    if (!set) {
      set = new Set();
      this.byUri.set(uri, set);
    }
    set.add(sessionId);
    return first;
  }

  /** Returns true when no subscriber is left (the upstream may be told to stop). */
  remove(uri: string, sessionId: string): boolean {
    const set = this.byUri.get(uri);
    if (!set) return false;
    set.delete(sessionId);
    if (set.size > 0) return false;
    this.byUri.delete(uri);
    return true;
  }

  subscribers(uri: string): ReadonlySet<string> {
    return this.byUri.get(uri) ?? new Set();
  }
}
