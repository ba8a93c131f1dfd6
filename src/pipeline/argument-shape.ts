/**
 * What a routed request's parameters must be before anything serialises, hashes or validates
 * them: values the audit log can write (RFC 8785 has no Infinity or NaN, and no lone surrogate)
 * nested no deeper than the recursive code downstream (redaction, canonical hashing, schema
 * validation, the policy engine) can walk without running out of stack. `JSON.parse` accepts
 * both (`1e400` parses to Infinity; it parses any depth without recursion), so a request can
 * carry them.
 *
 * Checked once per routed request, with an explicit stack rather than recursion, so the check
 * itself cannot overflow however deep the value is: it stops at the first level past the limit.
 */

/** Deepest nesting of objects and arrays accepted in a routed request's params (`{}` is depth 1). */
export const MAX_PARAMS_DEPTH = 64;

/** Why params cannot be taken, and where (a JSON pointer into params). */
export interface ShapeProblem {
  pointer: string;
  reason: string;
}

/** Lone surrogates (an unpaired half of a UTF-16 pair): valid in a JS string, not in JSON text. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** Any surrogate: a plain character class, several times faster to rule out than LONE_SURROGATE. */
const SURROGATE = /[\ud800-\udfff]/;

function hasLoneSurrogate(text: string): boolean {
  return SURROGATE.test(text) && LONE_SURROGATE.test(text);
}

/**
 * The first problem in `params`, or undefined when it can be recorded and walked. Costs one pass
 * over the value; allocates only the walk's stack (its size is the value's width, not its bytes).
 */
export function shapeProblem(params: unknown, maxDepth = MAX_PARAMS_DEPTH): ShapeProblem | undefined {
  if (params === null || typeof params !== 'object') {
    const reason = scalarReason(params);
    return reason === undefined ? undefined : { pointer: '', reason };
  }
  // Containers still to look into, with their depth and the path to them (parent links: the
  // pointer is built only when there is a problem).
  const stack: Pending[] = [{ value: params, depth: 1, at: undefined }];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { value, depth, at } = next;
    if (depth > maxDepth) return { pointer: pointer(at), reason: `are nested deeper than ${maxDepth} levels` };
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const child: unknown = value[i];
        if (child !== null && typeof child === 'object') stack.push({ value: child, depth: depth + 1, at: { key: String(i), parent: at } });
        else {
          const reason = scalarReason(child);
          if (reason !== undefined) return { pointer: pointer({ key: String(i), parent: at }), reason };
        }
      }
      continue;
    }
    for (const key of Object.keys(value)) {
      // The pointer names the object, not the key: a name with a lone surrogate cannot be recorded.
      if (hasLoneSurrogate(key)) return { pointer: pointer(at), reason: 'hold a property name with a lone surrogate (not valid in JSON text)' };
      const child: unknown = (value as Record<string, unknown>)[key];
      if (child !== null && typeof child === 'object') stack.push({ value: child, depth: depth + 1, at: { key, parent: at } });
      else {
        const reason = scalarReason(child);
        if (reason !== undefined) return { pointer: pointer({ key, parent: at }), reason };
      }
    }
  }
  return undefined;
}

/** The client's words for a problem: which part of the request, and why. */
export function describeShape(problem: ShapeProblem): string {
  const inArguments = problem.pointer === '/arguments' || problem.pointer.startsWith('/arguments/');
  const where = inArguments ? problem.pointer.slice('/arguments'.length) || '/' : problem.pointer || '/';
  return `${inArguments ? 'arguments' : 'params'} ${problem.reason} at ${where}`;
}

interface Path {
  key: string;
  parent: Path | undefined;
}

interface Pending {
  value: object;
  depth: number;
  at: Path | undefined;
}

/** Longest pointer kept in a problem: it is written to the audit log and the gateway's log. */
const MAX_POINTER = 200;

function scalarReason(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `hold a number JSON cannot represent (${value})`;
  if (typeof value === 'string') return hasLoneSurrogate(value) ? 'hold a string with a lone surrogate (not valid in JSON text)' : undefined;
  return undefined;
}

/** RFC 6901 pointer of a path, cut at MAX_POINTER characters. */
function pointer(at: Path | undefined): string {
  const keys: string[] = [];
  for (let p = at; p; p = p.parent) keys.push(p.key.replace(/~/g, '~0').replace(/\//g, '~1'));
  const text = keys.length === 0 ? '' : `/${keys.reverse().join('/')}`;
  if (text.length <= MAX_POINTER) return text;
  // Not between the halves of a surrogate pair: the cut pointer must stay valid JSON text.
  const cut = /[\ud800-\udbff]/.test(text[MAX_POINTER - 1]!) ? MAX_POINTER - 1 : MAX_POINTER;
  return `${text.slice(0, cut)}…`;
}
