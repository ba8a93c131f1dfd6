/**
 * What a group of policies reads from the request, so only that is handed to Cedar: converting
 * the request into wasm is most of a decision's cost, and it grows with every attribute passed
 * (measured with the micro-benchmarks in bench/micro). Found by scanning the policy text for `context.…`, `principal.…` and
 * `resource.…` chains (and `has` tests); the scan can only over-approximate (a match inside a
 * string literal adds an attribute), never miss one, because Cedar reaches attributes only
 * through `.name`, `["name"]` and `has`.
 */
export type Usage = 'all' | Map<string, Usage>;

type CedarType = Record<string, unknown> & { type?: string; attributes?: Record<string, CedarType> };

// `.name` not followed by `(` (that is a method: `.contains(…)`), or `["name"]`.
const STEP = /^\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)(?![A-Za-z0-9_]|\s*\()|\[\s*"((?:[^"\\]|\\.)*)"\s*\])/;
const HAS = /^\s*has\s+(?:([A-Za-z_][A-Za-z0-9_]*)|"((?:[^"\\]|\\.)*)")/;

function add(node: Map<string, Usage>, path: string[]): void {
  let cur: Map<string, Usage> = node;
  for (let i = 0; i < path.length; i++) {
    const key = path[i]!;
    const existing = cur.get(key);
    if (existing === 'all') return;
    if (i === path.length - 1) {
      cur.set(key, 'all');
      return;
    }
    const next = existing ?? new Map<string, Usage>();
    cur.set(key, next);
    cur = next;
  }
}

/**
 * Attributes of `root` (context, principal or resource) the texts read. For `context`, a bare
 * use (e.g. `context == {…}`) means everything; for entities a bare use (`principal == Agent::…`,
 * `resource in Server::…`) needs no attributes.
 */
export function usageOf(texts: string[], root: 'context' | 'principal' | 'resource'): Usage {
  const used = new Map<string, Usage>();
  const word = new RegExp(`\\b${root}\\b`, 'g');
  for (const text of texts) {
    for (const m of text.matchAll(word)) {
      let rest = text.slice(m.index! + root.length);
      const path: string[] = [];
      for (let s = STEP.exec(rest); s; s = STEP.exec(rest)) {
        path.push(s[1] ?? s[2]!);
        rest = rest.slice(s[0].length);
      }
      const has = HAS.exec(rest);
      if (has) path.push(has[1] ?? has[2]!);
      if (path.length > 0) add(used, path);
      else if (root === 'context') return 'all';
    }
  }
  return used;
}

/** The record type with only the used attributes (a used attribute keeps its whole type below the use). */
export function pruneType(type: CedarType, usage: Usage): CedarType {
  if (usage === 'all' || type.type !== 'Record' || !type.attributes) return type;
  const attributes: Record<string, CedarType> = {};
  for (const [name, u] of usage) {
    const t = type.attributes[name];
    if (t) attributes[name] = pruneType(t, u);
  }
  return { ...type, attributes };
}

/** The value with only the used attributes, matching pruneType. */
export function pruneValue(value: unknown, usage: Usage): unknown {
  if (usage === 'all' || value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [name, u] of usage) {
    const v = (value as Record<string, unknown>)[name];
    if (v !== undefined) out[name] = pruneValue(v, u);
  }
  return out;
}
