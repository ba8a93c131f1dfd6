/**
 * Tool-definition pinning. The hash of each upstream tool definition (name, description,
 * inputSchema, annotations… exactly as the upstream lists it, canonical JSON, SHA-256) is
 * recorded when it is approved. A tool whose definition no longer matches its pin is hidden and
 * uncallable until `toolgate tools approve`: a server that rewrites a description to steer the
 * model ("tool poisoning") or widens a schema loses the tool until a person looks.
 *
 * The store is a small JSON file (default `.toolgate/pins.json`), written atomically
 * (temporary file + rename), so the gateway can re-read it while `toolgate tools approve` writes.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import canonicalize from 'canonicalize';
import { ToolgateError } from '../errors.js';

export type PinStatus = 'approved' | 'changed' | 'new';

export interface Pin {
  hash: string;
  approvedAt: string;
  /** The approved definition, kept so drift can be shown and the schema can outlive an upstream outage. */
  definition: Record<string, unknown>;
}

export class PinStoreError extends ToolgateError {
  constructor(message: string) {
    super('ERR_PIN_STORE', message);
  }
}

export function pinKey(upstream: string, tool: string): string {
  return `${upstream}/${tool}`;
}

export function definitionHash(definition: unknown): string {
  return (
    'sha256:' +
    createHash('sha256')
      .update(canonicalize(definition) ?? 'null')
      .digest('hex')
  );
}

export class PinStore {
  private pins = new Map<string, Pin>();

  constructor(readonly path: string) {
    this.reload();
  }

  /** Re-reads the file (after `tools approve` or SIGHUP). A missing file is an empty store. */
  reload(): void {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.pins = new Map();
        return;
      }
      throw new PinStoreError(`cannot read ${this.path}: ${(err as Error).message}`);
    }
    try {
      const parsed = JSON.parse(text) as { tools?: Record<string, Pin> };
      this.pins = new Map(Object.entries(parsed.tools ?? {}));
    } catch (err) {
      throw new PinStoreError(`${this.path} is not a pin store: ${(err as Error).message}`);
    }
  }

  status(upstream: string, tool: string, definition: unknown): PinStatus {
    const pin = this.pins.get(pinKey(upstream, tool));
    if (!pin) return 'new';
    return pin.hash === definitionHash(definition) ? 'approved' : 'changed';
  }

  get(upstream: string, tool: string): Pin | undefined {
    return this.pins.get(pinKey(upstream, tool));
  }

  all(): ReadonlyMap<string, Pin> {
    return this.pins;
  }

  /** Records approval of these definitions and writes the file. */
  approve(entries: Array<{ upstream: string; tool: string; definition: Record<string, unknown> }>, at = new Date()): void {
    for (const e of entries) {
      this.pins.set(pinKey(e.upstream, e.tool), { hash: definitionHash(e.definition), approvedAt: at.toISOString(), definition: e.definition });
    }
    this.save();
  }

  private save(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tools = Object.fromEntries([...this.pins.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ version: 1, tools }, null, 2)}\n`);
    renameSync(tmp, this.path);
  }
}
