/**
 * The catalog as policy sees it: each upstream tool with its kind, its pin status and the
 * definition policies are validated against. Recomputed only when the catalog or the pin store
 * changes. A tool whose definition drifted from its pin keeps its *approved* definition here
 * (it is hidden anyway), so the schema and the policies written for it stay valid.
 */
import type { Catalog } from '../catalog/catalog.js';
import { definitionHash, type PinStatus, type PinStore } from '../catalog/pinning.js';
import type { AuditSink } from '../pipeline/stages.js';
import type { ToolKind, ToolKinds } from './kinds.js';
import type { ResourceRef } from './request.js';
import { actionIdOf, argumentShape, type SchemaTool } from './schema.js';

export interface ToolView {
  upstream: string;
  name: string;
  kind: ToolKind;
  status: PinStatus | 'unpinned';
  /** The definition policies see: the live one, or the approved one when it drifted. */
  definition: Record<string, unknown>;
  resource: ResourceRef;
  argumentShape: ReturnType<typeof argumentShape>;
}

export class CatalogView {
  private seenRevision = -1;
  private seenPins: unknown;
  private readonly reportedDrift = new Set<string>();
  tools = new Map<string, ToolView>();

  constructor(
    private readonly catalog: Catalog,
    private readonly kinds: ToolKinds,
    private readonly pins: PinStore | undefined,
    private readonly firstRun: 'approve' | 'require',
    private readonly audit: AuditSink,
    private readonly clock: () => Date,
  ) {}

  /** Returns true when the view changed (the policy set must then be recompiled). */
  refresh(): boolean {
    const pinsNow = this.pins?.all();
    if (this.catalog.revision === this.seenRevision && pinsNow === this.seenPins) return false;
    const tools = new Map<string, ToolView>();
    const toApprove: Array<{ upstream: string; tool: string; definition: Record<string, unknown> }> = [];
    for (const e of this.catalog.entries('tools')) {
      const live = { ...e.item, name: e.original } as Record<string, unknown>;
      let status: ToolView['status'] = 'unpinned';
      let definition = live;
      if (this.pins) {
        status = this.pins.status(e.upstream, e.original, live);
        if (status === 'new' && this.firstRun === 'approve') {
          toApprove.push({ upstream: e.upstream, tool: e.original, definition: live });
          status = 'approved';
        } else if (status === 'changed') {
          definition = this.pins.get(e.upstream, e.original)!.definition;
          this.reportDrift(e.upstream, e.original, live, definition);
        }
      }
      tools.set(actionIdOf(e.upstream, e.original), this.view(e.upstream, e.original, status, definition));
    }
    // Approved tools of an upstream that is down stay in the schema, so policies naming them stay valid.
    for (const [key, pin] of this.pins?.all() ?? []) {
      if (tools.has(key)) continue;
      const [upstream, name] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
      tools.set(key, this.view(upstream, name, 'approved', pin.definition));
    }
    if (toApprove.length > 0) this.pins!.approve(toApprove, this.clock());
    this.tools = tools;
    this.seenRevision = this.catalog.revision;
    this.seenPins = this.pins?.all();
    return true;
  }

  schemaTools(): SchemaTool[] {
    return [...this.tools.values()].map((t) => ({ upstream: t.upstream, name: t.name, kind: t.kind, inputSchema: t.definition.inputSchema }));
  }

  /** Callable as far as pinning goes: approved, or pinning off. */
  pinnedOk(upstream: string, name: string): boolean {
    const t = this.tools.get(actionIdOf(upstream, name));
    return t !== undefined && (t.status === 'approved' || t.status === 'unpinned');
  }

  private view(upstream: string, name: string, status: ToolView['status'], definition: Record<string, unknown>): ToolView {
    const kind = this.kinds.of(upstream, name);
    const action = actionIdOf(upstream, name);
    return {
      upstream,
      name,
      kind,
      status,
      definition,
      resource: { action, type: 'Tool', id: action, upstream, attrs: { upstream, name, kind } },
      argumentShape: argumentShape(definition.inputSchema),
    };
  }

  private reportDrift(upstream: string, tool: string, live: Record<string, unknown>, approved: Record<string, unknown>): void {
    const liveHash = definitionHash(live);
    const key = `${upstream}/${tool}@${liveHash}`;
    if (this.reportedDrift.has(key)) return;
    this.reportedDrift.add(key);
    const changed = [...new Set([...Object.keys(live), ...Object.keys(approved)])].filter((k) => JSON.stringify(live[k]) !== JSON.stringify(approved[k]));
    void this.audit.record({
      kind: 'catalog',
      at: this.clock(),
      detail: {
        event: 'tool_definition_changed',
        upstream,
        tool,
        approvedHash: definitionHash(approved),
        liveHash,
        changedFields: changed,
        action: 'hidden until `toolgate tools approve`',
      },
    });
  }
}
