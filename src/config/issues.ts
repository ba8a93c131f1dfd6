import { z } from 'zod';
import { type ConfigProblem, formatKeyPath, type KeyPath } from './errors.js';

/**
 * Turns zod's issues into config problems: the key path, what was expected (the text each
 * schema in schema.ts carries) and what was found. Unknown keys get one problem each, with a
 * "did you mean" when a known key is a typo away.
 *
 * @param fromEnv key path → variables that fed it (from interpolateEnv): such values are not
 *   echoed, since they may be secrets.
 */
export function problemsFromIssues(issues: readonly z.core.$ZodIssue[], schema: z.ZodType, fromEnv: ReadonlyMap<string, string[]>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    const path = keyPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(schema, path);
      for (const key of issue.keys) problems.push({ path: [...path, key], message: unknownKey(key, known) });
      continue;
    }
    // A record key's own message sits one level down.
    const expected = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    const input = (issue as { input?: unknown }).input;
    if (input === undefined) {
      problems.push({ path, message: `missing; ${expected}` });
    } else {
      const variables = issue.code === 'invalid_key' ? undefined : fromEnv.get(formatKeyPath(path));
      problems.push({ path, message: `${expected}, got ${describeInput(input, variables)}` });
    }
  }
  return problems;
}

function keyPath(path: readonly PropertyKey[]): KeyPath {
  return path.filter((segment): segment is string | number => typeof segment !== 'symbol');
}

function describeInput(input: unknown, variables: string[] | undefined): string {
  if (variables !== undefined) return `a value from ${variables.map((name) => `\${${name}}`).join(' and ')}`;
  if (typeof input === 'string') return JSON.stringify(input);
  if (Array.isArray(input)) return 'a list';
  if (input !== null && typeof input === 'object') return 'a mapping';
  return String(input);
}

function unknownKey(key: string, known: string[]): string {
  const guess = closest(key, known);
  if (guess !== undefined) return `unknown key; did you mean "${guess}"?`;
  return known.length > 0 ? `unknown key; expected one of ${known.join(', ')}` : 'unknown key';
}

/** The keys the schema accepts at `path`, found by walking through wrappers to the object there. */
function knownKeys(schema: z.ZodType, path: KeyPath): string[] {
  let node: z.ZodType | undefined = schema;
  for (const segment of path) {
    node = unwrap(node);
    if (node instanceof z.ZodObject && typeof segment === 'string') node = node.shape[segment] as z.ZodType | undefined;
    else if (node instanceof z.ZodArray && typeof segment === 'number') node = node.element as z.ZodType;
    else return [];
  }
  node = unwrap(node);
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let node = schema;
  for (;;) {
    if (node instanceof z.ZodPipe) node = node.out as z.ZodType;
    else if (node instanceof z.ZodOptional || node instanceof z.ZodDefault || node instanceof z.ZodPrefault) node = node.unwrap() as z.ZodType;
    else return node;
  }
}

/** The one known key a typo away from `key` (case-insensitive), if there is exactly one closest. */
function closest(key: string, known: string[]): string | undefined {
  const limit = key.length <= 4 ? 1 : 2;
  const scored = known.map((candidate) => ({ candidate, distance: editDistance(key.toLowerCase(), candidate.toLowerCase()) }));
  const nearest = Math.min(...scored.map((entry) => entry.distance));
  const best = scored.filter((entry) => entry.distance === nearest);
  return nearest <= limit && best.length === 1 ? best[0]!.candidate : undefined;
}

/** Edits (insert, delete, substitute, swap neighbours) from a to b: "prot" is one from "port". */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}
