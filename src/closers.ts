/**
 * What the gateway has opened, closed in reverse order: when start-up fails half-way, exactly
 * what was opened so far is closed; on shutdown, everything. Each closer runs once, even when
 * close is asked for again; a closer that fails does not stop the others (the first failure is
 * reported once all have run).
 */
export class Closers {
  private readonly stack: Array<{ what: string; close: () => void | Promise<void> }> = [];
  private closing: Promise<void> | undefined;

  /** Registers how to close something just opened. */
  push(what: string, close: () => void | Promise<void>): void {
    this.stack.push({ what, close });
  }

  closeAll(): Promise<void> {
    this.closing ??= this.run();
    return this.closing;
  }

  private async run(): Promise<void> {
    let first: unknown;
    for (let c = this.stack.pop(); c; c = this.stack.pop()) {
      try {
        await c.close();
      } catch (err) {
        first ??= new Error(`closing ${c.what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
    }
    if (first !== undefined) throw first;
  }
}
