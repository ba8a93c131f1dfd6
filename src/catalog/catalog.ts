/**
 * The merged view of every upstream's tools, prompts, resources and resource templates.
 *
 * Tools and prompts are namespaced with the upstream's prefix (default `<id>__`), so names stay
 * unique and say where they go; the upstream is called under its original name. Resource URIs
 * are not rewritten (they are identifiers a server may hand out in results), so they are routed
 * by lookup: the exact URI from resources/list, then the upstream whose template matches.
 */
import type { CatalogKind } from '../protocol/item-kinds.js';
import { definitionHash } from './pinning.js';

export type { CatalogKind };

export type Listed = Record<string, unknown> & { name?: string; uri?: string; uriTemplate?: string };

export interface CatalogEntry {
  upstream: string;
  /** Name (or URI) as the upstream knows it. */
  original: string;
  /** Name (or URI) as clients see it. */
  exposed: string;
  item: Listed;
  /**
   * Tools: the hash of the definition as the upstream lists it (as pinning hashes it), for the
   * audit record's `toolHash`. Computed when the item is listed, not per call.
   */
  definitionHash?: string;
}

export interface Collision {
  kind: CatalogKind;
  exposed: string;
  upstreams: [string, string];
}

interface UpstreamLists {
  prefix: string;
  order: number;
  lists: Partial<Record<CatalogKind, Listed[]>>;
}

export class Catalog {
  private readonly upstreams = new Map<string, UpstreamLists>();
  private index: Record<CatalogKind, Map<string, CatalogEntry>> = emptyIndex();
  private templateMatchers: Array<{ upstream: string; pattern: RegExp }> = [];
  private collisionList: Collision[] = [];
  private version = 0;
  /** Definition hashes by the upstream's item object: a rebuild re-hashes only what was relisted. */
  private readonly hashes = new WeakMap<Listed, string>();

  /** Registers an upstream in configuration order (earlier wins a runtime collision). */
  addUpstream(id: string, prefix: string): void {
    this.upstreams.set(id, { prefix, order: this.upstreams.size, lists: {} });
  }

  setList(upstream: string, kind: CatalogKind, items: Listed[]): void {
    const u = this.upstreams.get(upstream);
    if (!u) throw new Error(`unknown upstream ${upstream}`);
    u.lists[kind] = items;
    this.rebuild();
  }

  clearUpstream(upstream: string): void {
    const u = this.upstreams.get(upstream);
    if (!u) return;
    u.lists = {};
    this.rebuild();
  }

  /** Increments whenever the merged view changes; cheap staleness check for callers. */
  get revision(): number {
    return this.version;
  }

  get collisions(): readonly Collision[] {
    return this.collisionList;
  }

  count(kind: CatalogKind): number {
    return this.index[kind].size;
  }

  entries(kind: CatalogKind): IterableIterator<CatalogEntry> {
    return this.index[kind].values();
  }

  /** Resolves an exposed tool or prompt name to its upstream and original name. */
  resolve(kind: 'tools' | 'prompts', exposed: string): CatalogEntry | undefined {
    return this.index[kind].get(exposed);
  }

  /**
   * The upstream whose prefix an exposed tool or prompt name carries, whether or not it offers
   * that name: a name nobody offers is still answered as that upstream's (same refusal as its
   * hidden items). Undefined when no upstream with a non-empty prefix matches.
   */
  ownerOf(exposed: string): Pick<CatalogEntry, 'upstream' | 'original'> | undefined {
    let owner: Pick<CatalogEntry, 'upstream' | 'original'> | undefined;
    for (const [id, u] of this.upstreams) {
      if (u.prefix.length > 0 && exposed.startsWith(u.prefix) && (!owner || u.prefix.length > exposed.length - owner.original.length)) {
        owner = { upstream: id, original: exposed.slice(u.prefix.length) };
      }
    }
    return owner;
  }

  /** Which upstream serves this resource URI, if any can be told. */
  resolveResource(uri: string): string | undefined {
    const exact = this.index.resources.get(uri);
    if (exact) return exact.upstream;
    for (const m of this.templateMatchers) if (m.pattern.test(uri)) return m.upstream;
    return undefined;
  }

  /** Which upstream owns a resource template (for completion/complete with ref/resource). */
  resolveTemplate(uriTemplate: string): string | undefined {
    return this.index.resourceTemplates.get(uriTemplate)?.upstream ?? this.resolveResource(uriTemplate);
  }

  private rebuild(): void {
    const index = emptyIndex();
    const collisions: Collision[] = [];
    const ordered = [...this.upstreams.entries()].sort((a, b) => a[1].order - b[1].order);
    for (const [id, u] of ordered) {
      for (const kind of Object.keys(u.lists) as CatalogKind[]) {
        for (const item of u.lists[kind] ?? []) {
          const original = keyOf(kind, item);
          if (original === undefined) continue;
          const exposed = kind === 'tools' || kind === 'prompts' ? u.prefix + original : original;
          const existing = index[kind].get(exposed);
          if (existing) {
            if (existing.upstream !== id) collisions.push({ kind, exposed, upstreams: [existing.upstream, id] });
            continue;
          }
          const shown = kind === 'tools' || kind === 'prompts' ? { ...item, name: exposed } : item;
          const entry: CatalogEntry = { upstream: id, original, exposed, item: shown };
          if (kind === 'tools') entry.definitionHash = this.hashOf(item);
          index[kind].set(exposed, entry);
        }
      }
    }
    this.index = index;
    this.collisionList = collisions;
    this.templateMatchers = [...index.resourceTemplates.values()].map((e) => ({ upstream: e.upstream, pattern: templatePattern(e.original) }));
    this.version++;
  }

  private hashOf(item: Listed): string {
    let hash = this.hashes.get(item);
    if (hash === undefined) {
      hash = definitionHash(item);
      this.hashes.set(item, hash);
    }
    return hash;
  }
}

function emptyIndex(): Record<CatalogKind, Map<string, CatalogEntry>> {
  return { tools: new Map(), prompts: new Map(), resources: new Map(), resourceTemplates: new Map() };
}

function keyOf(kind: CatalogKind, item: Listed): string | undefined {
  const v = kind === 'resources' ? item.uri : kind === 'resourceTemplates' ? item.uriTemplate : item.name;
  return typeof v === 'string' ? v : undefined;
}

/** RFC 6570 template → a regex that matches URIs it can expand to (each expression: one or more chars). */
export function templatePattern(template: string): RegExp {
  let source = '^';
  let last = 0;
  for (const m of template.matchAll(/\{([^}]*)\}/g)) {
    source += escapeRegExp(template.slice(last, m.index));
    const op = m[1]![0];
    source += op === '+' || op === '#' || op === '/' || op === '?' || op === '&' ? '.*' : '[^/?#]+';
    last = m.index! + m[0].length;
  }
  source += `${escapeRegExp(template.slice(last))}$`;
  return new RegExp(source);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
