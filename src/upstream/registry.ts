import { Catalog, type Listed } from '../catalog/catalog.js';
import type { UpstreamConfig } from '../config/types.js';
import { ITEM_KINDS } from '../protocol/item-kinds.js';
import type { JsonRpcMessage, JsonRpcNotification } from '../protocol/jsonrpc.js';
import { UpstreamClient, type UpstreamState } from './client.js';
import { HttpUpstreamTransport } from './transport/http.js';
import { StdioUpstreamTransport } from './transport/stdio.js';
import { readUpstreamTls } from './transport/tls-material.js';
import type { UpstreamTransport } from './transport/transport.js';

export interface RegistryEvents {
  catalogChanged(kind: 'tools' | 'prompts' | 'resources'): void;
  resourceUpdated(upstream: string, notification: JsonRpcNotification): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

/** The configured upstreams: their connections, their state, and the catalog built from their lists. */
export class UpstreamRegistry {
  readonly catalog = new Catalog();
  readonly clients = new Map<string, UpstreamClient>();
  private readonly firstListing = new Map<string, Promise<void>>();
  private readonly firstListed = new Map<string, () => void>();

  constructor(
    configs: UpstreamConfig[],
    private readonly events: RegistryEvents,
    makeTransport: (config: UpstreamConfig) => UpstreamTransport = transportFor,
  ) {
    for (const config of configs) {
      this.catalog.addUpstream(config.id, config.prefix);
      this.firstListing.set(config.id, new Promise((resolve) => this.firstListed.set(config.id, resolve)));
      const client = new UpstreamClient(config, () => makeTransport(config), {
        listChanged: (kind) => void this.relist(client, kind),
        resourceUpdated: (n) => this.events.resourceUpdated(config.id, n),
        unrouted: (m: JsonRpcMessage, why) => this.events.log('warn', `upstream ${config.id}: dropped ${describe(m)}: ${why}`),
        stateChanged: (state: UpstreamState) => {
          if (state === 'down') {
            this.catalog.clearUpstream(config.id);
            this.events.log('warn', `upstream ${config.id} is down: ${client.lastError ?? 'unknown reason'}`);
            this.events.catalogChanged('tools');
            this.events.catalogChanged('prompts');
            this.events.catalogChanged('resources');
          }
        },
      });
      this.clients.set(config.id, client);
    }
  }

  /**
   * Starts every upstream and waits (bounded by each one's connect timeout) for its first listing,
   * so the first client sees a full catalog. An upstream that is down does not block start-up.
   */
  async start(): Promise<void> {
    await Promise.all(
      [...this.clients.values()].map(async (client) => {
        void client.start();
        // Not unref'd: in a CLI nothing else may keep the process alive while an upstream that
        // crashed at start waits for its restart, and an empty event loop would end the process
        // silently in the middle of this await.
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((r) => (timer = setTimeout(r, this.configTimeout(client))));
        await Promise.race([this.firstListing.get(client.id), timeout]);
        clearTimeout(timer);
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close()));
  }

  get(id: string): UpstreamClient | undefined {
    return this.clients.get(id);
  }

  private configTimeout(client: UpstreamClient): number {
    return client.config.timeouts.connectMs + 1000;
  }

  private async relist(client: UpstreamClient, which: 'tools' | 'prompts' | 'resources' | 'all'): Promise<void> {
    // A list_changed names the capability: resources/list_changed covers the templates too.
    const lists = ITEM_KINDS.filter((l) => which === 'all' || l.capability === which);
    for (const l of lists) {
      if (!(l.capability in client.serverCapabilities)) {
        this.catalog.setList(client.id, l.catalog, []);
        continue;
      }
      try {
        this.catalog.setList(client.id, l.catalog, await this.listAll(client, l.list, l.field));
      } catch (err) {
        this.events.log('warn', `upstream ${client.id}: ${l.list} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    for (const c of this.catalog.collisions) {
      const named = c.kind === 'tools' || c.kind === 'prompts';
      this.events.log(
        named ? 'error' : 'warn',
        named
          ? `${c.kind} name "${c.exposed}" is offered by both ${c.upstreams[0]} and ${c.upstreams[1]}; ${c.upstreams[1]}'s is hidden — set a prefix on one of them`
          : `${c.kind === 'resources' ? 'resource' : 'resource template'} ${c.exposed} is served by both ${c.upstreams[0]} and ${c.upstreams[1]}; requests for it go to ${c.upstreams[0]}`,
      );
    }
    this.firstListed.get(client.id)?.();
    if (which === 'all' || which === 'tools') this.events.catalogChanged('tools');
    if (which === 'all' || which === 'prompts') this.events.catalogChanged('prompts');
    if (which === 'all' || which === 'resources') this.events.catalogChanged('resources');
  }

  private async listAll(client: UpstreamClient, method: string, field: string): Promise<Listed[]> {
    const items: Listed[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const result = await client.call(method, cursor ? { cursor } : undefined);
      const got = result[field];
      if (Array.isArray(got)) items.push(...(got as Listed[]));
      cursor = typeof result.nextCursor === 'string' ? result.nextCursor : undefined;
      if (!cursor) break;
    }
    return items;
  }
}

export function transportFor(config: UpstreamConfig): UpstreamTransport {
  const t = config.transport;
  if (t.type === 'http') {
    const tls = readUpstreamTls(config.id, config.tls);
    return new HttpUpstreamTransport(config.id, { url: t.url, headers: t.headers, connectTimeoutMs: config.timeouts.connectMs, ...(tls ? { tls } : {}) });
  }
  return new StdioUpstreamTransport(config.id, { command: t.command, args: t.args, env: t.env, cwd: t.cwd });
}

function describe(m: JsonRpcMessage): string {
  return 'method' in m ? m.method : `response ${String((m as { id: unknown }).id)}`;
}
