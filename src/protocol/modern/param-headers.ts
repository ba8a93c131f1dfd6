/**
 * `x-mcp-header` / `Mcp-Param-{Name}` (basic/transports/streamable-http.mdx, "Custom Headers
 * from Tool Parameters"; server/tools.mdx, "x-mcp-header"). A tool may mark primitive
 * arguments to be mirrored into headers; clients MUST mirror them, MUST drop from
 * `tools/list` any tool whose annotations break the rules, and a server that reads the body
 * MUST refuse (400, -32020) a header that is missing, malformed or disagrees with it.
 */

import { isObject } from '../json.js';
import type { JsonRpcErrorObject } from '../jsonrpc.js';
import { decodeHeaderValue, encodeHeaderValue, isValidFieldValue, trimFieldValue } from './header-value.js';
import { ModernErrorCode } from './protocol.js';

export interface ParamHeaderDeclaration {
  /** The `{Name}` of `Mcp-Param-{Name}`, as the tool spells it. */
  headerName: string;
  /** The chain of `properties` keys from the schema root to the annotated argument. */
  path: readonly string[];
  type: 'string' | 'integer' | 'boolean';
}

const KEY = 'x-mcp-header';
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PRIMITIVE = new Set(['string', 'integer', 'boolean']);
/** Keywords the annotation may not sit under: it must be reachable through `properties` alone. */
const UNREACHABLE = [
  'items',
  'prefixItems',
  'contains',
  'additionalProperties',
  'unevaluatedProperties',
  'unevaluatedItems',
  'propertyNames',
  'patternProperties',
  'dependentSchemas',
  'oneOf',
  'anyOf',
  'allOf',
  'not',
  'if',
  'then',
  'else',
  '$defs',
  'definitions',
];

function containsAnnotation(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(containsAnnotation);
  if (!isObject(node)) return false;
  return KEY in node || Object.values(node).some(containsAnnotation);
}

/**
 * Reads and validates a tool's `x-mcp-header` annotations.
 *
 * @example
 * readParamHeaderDeclarations({ type: 'object', properties: { region: { type: 'string', 'x-mcp-header': 'Region' } } })
 * // → { ok: true, declarations: [{ headerName: 'Region', path: ['region'], type: 'string' }] }
 */
export function readParamHeaderDeclarations(inputSchema: unknown): { ok: true; declarations: ParamHeaderDeclaration[] } | { ok: false; reason: string } {
  const declarations: ParamHeaderDeclaration[] = [];
  const seen = new Map<string, string>();
  const visit = (node: unknown, path: string[]): string | undefined => {
    if (!isObject(node)) return undefined;
    for (const k of UNREACHABLE) {
      if (k in node && containsAnnotation(node[k])) return `${path.join('.') || '<root>'}: ${KEY} under ${k} is not statically reachable`;
    }
    if (KEY in node) {
      const where = path.join('.') || '<root>';
      const name = node[KEY];
      if (path.length === 0) return `${where}: ${KEY} must annotate a property`;
      if (typeof name !== 'string' || !TOKEN.test(name)) return `${where}: ${KEY} must be a non-empty RFC 9110 token`;
      if (typeof node.type !== 'string' || !PRIMITIVE.has(node.type)) return `${where}: ${KEY} is allowed on string, integer and boolean only`;
      const prior = seen.get(name.toLowerCase());
      if (prior !== undefined) return `${where}: ${KEY} '${name}' repeats '${prior}' (names are case-insensitive)`;
      seen.set(name.toLowerCase(), name);
      declarations.push({ headerName: name, path, type: node.type as ParamHeaderDeclaration['type'] });
    }
    if (isObject(node.properties)) {
      for (const [key, child] of Object.entries(node.properties)) {
        const fault = visit(child, [...path, key]);
        if (fault !== undefined) return fault;
      }
    }
    return undefined;
  };
  const fault = visit(inputSchema, []);
  return fault === undefined ? { ok: true, declarations } : { ok: false, reason: fault };
}

function valueAt(args: unknown, path: readonly string[]): unknown {
  let node = args;
  for (const key of path) {
    if (!isObject(node)) return undefined;
    node = node[key];
  }
  return node;
}

/** The header text of a primitive argument; undefined for null, absent or wrongly typed values. */
function asHeaderText(value: unknown, type: ParamHeaderDeclaration['type']): string | undefined {
  if (type === 'string') return typeof value === 'string' ? value : undefined;
  if (type === 'boolean') return typeof value === 'boolean' ? String(value) : undefined;
  return typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : undefined;
}

/** The `Mcp-Param-*` headers a client sends for one call's arguments (absent or null values send none). */
export function paramHeadersFor(declarations: readonly ParamHeaderDeclaration[], args: unknown): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const d of declarations) {
    const text = asHeaderText(valueAt(args, d.path), d.type);
    if (text !== undefined) headers[`Mcp-Param-${d.headerName}`] = encodeHeaderValue(text);
  }
  return headers;
}

function reject(header: string, message: string): { ok: false; status: 400; error: JsonRpcErrorObject } {
  return { ok: false, status: 400, error: { code: ModernErrorCode.HeaderMismatch, message: `Header mismatch: ${message}`, data: { header } } };
}

/**
 * Checks received `Mcp-Param-*` headers against the body arguments. A value present in the
 * body needs its header; integers compare numerically (`42.0` equals `42`). Headers the tool
 * does not declare are ignored: the gateway rebuilds upstream headers from the body anyway.
 */
export function checkParamHeaders(
  headers: Record<string, string | string[] | undefined>,
  declarations: readonly ParamHeaderDeclaration[],
  args: unknown,
): { ok: true } | { ok: false; status: 400; error: JsonRpcErrorObject } {
  if (declarations.length === 0) return { ok: true };
  const lower = new Map<string, string | string[] | undefined>();
  for (const [k, v] of Object.entries(headers)) lower.set(k.toLowerCase(), v);
  for (const d of declarations) {
    const header = `Mcp-Param-${d.headerName}`;
    const body = valueAt(args, d.path);
    const expected = asHeaderText(body, d.type);
    if (expected === undefined) continue;
    const raw = lower.get(header.toLowerCase());
    if (raw === undefined) return reject(header, `${header} is missing (the body carries ${d.path.join('.')})`);
    if (Array.isArray(raw) && raw.length !== 1) return reject(header, `${header} appears more than once`);
    const text = trimFieldValue(Array.isArray(raw) ? raw[0]! : raw);
    if (!isValidFieldValue(text)) return reject(header, `${header} has invalid characters`);
    const decoded = decodeHeaderValue(text);
    if (decoded === undefined) return reject(header, `${header} carries an invalid Base64 sentinel`);
    const same = d.type === 'integer' ? /^-?\d+(\.0+)?$/.test(decoded) && Number(decoded) === body : decoded === expected;
    if (!same) return reject(header, `${header} ${JSON.stringify(decoded)} does not match ${d.path.join('.')} ${JSON.stringify(body)}`);
  }
  return { ok: true };
}
