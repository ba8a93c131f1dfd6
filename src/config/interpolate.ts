import { type ConfigProblem, formatKeyPath, type KeyPath } from './errors.js';

/** The environment a config is read against (process.env, or a fixed map in tests). */
export type ConfigEnv = Readonly<Record<string, string | undefined>>;

export interface Interpolated {
  /** The parsed YAML with every `${…}` in a string value replaced. */
  value: unknown;
  /** Unset variables and malformed references, each with the key path where it was used. */
  problems: ConfigProblem[];
  /**
   * Formatted key path → names of the variables that fed the value there. Validation messages
   * use it to say "a value from ${CRM_KEY}" instead of echoing what may be a secret.
   */
  fromEnv: Map<string, string[]>;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const EXPECTED = 'expected ${NAME} or ${NAME:-default}, or $${ for a literal "${"';

/**
 * Replaces `${NAME}` in every string value of a parsed YAML tree (keys are left alone).
 * `${NAME:-fallback}` uses `fallback` when NAME is unset or empty; `$${` is a literal `${`.
 * The fallback is taken as written, up to the first `}`.
 *
 * @example
 * interpolateEnv({ headers: { 'X-Api-Key': '${CRM_KEY}' } }, { CRM_KEY: 's3cret' }).value
 * // → { headers: { 'X-Api-Key': 's3cret' } }
 */
export function interpolateEnv(tree: unknown, env: ConfigEnv): Interpolated {
  const problems: ConfigProblem[] = [];
  const fromEnv = new Map<string, string[]>();

  const walk = (node: unknown, path: KeyPath): unknown => {
    if (typeof node === 'string') return substitute(node, path, env, problems, fromEnv);
    if (Array.isArray(node)) return node.map((item, index) => walk(item, [...path, index]));
    if (node !== null && typeof node === 'object') {
      // fromEntries defines own properties, so a `__proto__` key stays a plain key.
      return Object.fromEntries(Object.entries(node).map(([key, item]) => [key, walk(item, [...path, key])]));
    }
    return node;
  };

  return { value: walk(tree, []), problems, fromEnv };
}

function substitute(text: string, path: KeyPath, env: ConfigEnv, problems: ConfigProblem[], fromEnv: Map<string, string[]>): string {
  if (!text.includes('${')) return text;
  let out = '';
  const used: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      out += '${';
      i += 3;
      continue;
    }
    if (!text.startsWith('${', i)) {
      out += text[i];
      i += 1;
      continue;
    }
    const close = text.indexOf('}', i + 2);
    if (close === -1) {
      problems.push({ path, message: `unclosed reference "${text.slice(i)}"; ${EXPECTED}` });
      return text;
    }
    const body = text.slice(i + 2, close);
    const split = body.indexOf(':-');
    const name = split === -1 ? body : body.slice(0, split);
    if (!NAME.test(name)) {
      problems.push({ path, message: `malformed reference "\${${body}}"; ${EXPECTED}` });
    } else {
      const value = env[name];
      if (split !== -1 && (value === undefined || value === '')) {
        out += body.slice(split + 2);
      } else if (value === undefined) {
        problems.push({ path, message: `environment variable ${name} is not set` });
      } else {
        out += value;
        used.push(name);
      }
    }
    i = close + 1;
  }
  if (used.length > 0) fromEnv.set(formatKeyPath(path), used);
  return out;
}
