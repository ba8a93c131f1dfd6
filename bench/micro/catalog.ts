import { Catalog, type Listed } from '../../src/catalog/catalog.js';
import { fixtureTools } from '../fixture/echo-tools.js';
import { type MicroFigure, measureSync } from './measure.js';

function filledCatalog(upstreams: number, tools: number): { catalog: Catalog; names: string[] } {
  const catalog = new Catalog();
  const names: string[] = [];
  const items = fixtureTools(tools) as Listed[];
  for (let u = 0; u < upstreams; u++) {
    catalog.addUpstream(`u${u}`, `u${u}__`);
    catalog.setList(`u${u}`, 'tools', items);
    for (const t of items) names.push(`u${u}__${t.name}`);
  }
  return { catalog, names };
}

/** Exposed tool name → upstream and original name, in a catalog of `upstreams × tools`. */
export function catalogResolve(upstreams: number, tools: number, ms: number): MicroFigure {
  const { catalog, names } = filledCatalog(upstreams, tools);
  let i = 0;
  return measureSync(() => {
    i = (i + 7919) % names.length;
    return catalog.resolve('tools', names[i]!);
  }, ms);
}

/** One upstream's list replaced (tools/list_changed), which rebuilds the merged index. */
export function catalogRebuild(upstreams: number, tools: number, ms: number): MicroFigure {
  const { catalog } = filledCatalog(upstreams, tools);
  const items = fixtureTools(tools) as Listed[];
  return measureSync(() => catalog.setList('u0', 'tools', items), ms);
}
