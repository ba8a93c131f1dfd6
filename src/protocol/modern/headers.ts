/**
 * The standard request headers of 2026-07-28 Streamable HTTP (basic/transports/streamable-http.mdx,
 * "Request Metadata"): `MCP-Protocol-Version` and `Mcp-Method` on every request,
 * `Mcp-Name` on the methods that name a target. They mirror the body so intermediaries can
 * route without parsing it, which is exactly why they are untrusted: the body is the truth,
 * and a request whose headers are missing or disagree with it is refused with HTTP 400 and
 * HeaderMismatch (-32020) before anything acts on a header.
 */
import { ErrorCode, isRequest, type JsonRpcErrorObject, type JsonRpcMessage } from '../jsonrpc.js';
import { envelopeVersion } from './envelope.js';
import { decodeHeaderValue, encodeHeaderValue, isValidFieldValue, trimFieldValue } from './header-value.js';
import { type ParamHeaderDeclaration, paramHeadersFor } from './param-headers.js';
import { ModernErrorCode } from './protocol.js';

export type HeaderBag = Record<string, string | string[] | undefined>;
export type HeaderCheck = { ok: true } | { ok: false; status: number; error: JsonRpcErrorObject };

export const HeaderName = {
  protocolVersion: 'MCP-Protocol-Version',
  method: 'Mcp-Method',
  name: 'Mcp-Name',
} as const;

/**
 * Which body field `Mcp-Name` mirrors, per method. The first three rows are the core table;
 * the `tasks/*` rows come from the official tasks extension (SEP-2663), which the SDK v2 and
 * the conformance suite apply as well.
 */
const NAME_SOURCE: Readonly<Record<string, string>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
};

/**
 * The `Mcp-Name` source of a method: the params field and its value (undefined when the body
 * does not carry it as a string). `undefined` for methods that have no `Mcp-Name`.
 */
export function mcpNameSource(method: string, params: Record<string, unknown> | undefined): { field: string; value: string | undefined } | undefined {
  if (!Object.hasOwn(NAME_SOURCE, method)) return undefined;
  const field = NAME_SOURCE[method]!;
  const raw = params?.[field];
  return { field, value: typeof raw === 'string' ? raw : undefined };
}

const WANTED = ['mcp-protocol-version', 'mcp-method', 'mcp-name'] as const;
type Wanted = (typeof WANTED)[number];
type Found = Partial<Record<Wanted, string>>;

/** One pass over the header bag, case-insensitive; a header given twice is malformed. */
function collect(headers: HeaderBag): Found | { duplicate: string } {
  const found: Found = {};
  for (const key of Object.keys(headers)) {
    const lower = key.toLowerCase() as Wanted;
    if (!(WANTED as readonly string[]).includes(lower)) continue;
    const raw = headers[key];
    if (raw === undefined) continue;
    if (found[lower] !== undefined || (Array.isArray(raw) && raw.length !== 1)) return { duplicate: lower };
    found[lower] = trimFieldValue(Array.isArray(raw) ? raw[0]! : raw);
  }
  return found;
}

function mismatch(message: string, header: string, received: string | null, expected?: string): HeaderCheck {
  const data: Record<string, unknown> = { header, received };
  if (expected !== undefined) data.expected = expected;
  return { ok: false, status: 400, error: { code: ModernErrorCode.HeaderMismatch, message: `Header mismatch: ${message}`, data } };
}

function quote(v: string): string {
  return JSON.stringify(v.length > 200 ? `${v.slice(0, 200)}…` : v);
}

/**
 * Checks the standard headers of one modern POST against its body. Requests must carry
 * `MCP-Protocol-Version` (equal to the body's `_meta` version when the body declares one as
 * a string; a missing or malformed body version is left to `readRequestEnvelope`),
 * `Mcp-Method` (equal to `method`, case-sensitive) and, for tools/call, prompts/get,
 * resources/read (and the tasks extension), `Mcp-Name` equal to the body's name / uri after
 * Base64-sentinel decoding. A `Mcp-Name` naming a target the body lacks is refused too.
 * Notifications have no header rules in this revision: headers they carry must still agree.
 * A posted response is not a modern client message at all (400, -32600).
 *
 * @example
 * checkModernHeaders({ 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' }, toolsCall)
 * // → { ok: false, status: 400, error: { code: -32020, message: 'Header mismatch: Mcp-Method …' } }
 */
export function checkModernHeaders(headers: HeaderBag, message: JsonRpcMessage): HeaderCheck {
  if (!('method' in message)) {
    return { ok: false, status: 400, error: { code: ErrorCode.InvalidRequest, message: 'A 2026-07-28 client must not POST a JSON-RPC response' } };
  }
  const found = collect(headers);
  if ('duplicate' in found) return mismatch(`${found.duplicate} appears more than once`, found.duplicate, null);
  const request = isRequest(message);

  const version = found['mcp-protocol-version'];
  if (version === undefined) {
    if (request) return mismatch(`${HeaderName.protocolVersion} header is missing`, HeaderName.protocolVersion, null);
  } else {
    if (!isValidFieldValue(version)) return mismatch(`${HeaderName.protocolVersion} has invalid characters`, HeaderName.protocolVersion, version);
    const bodyVersion = envelopeVersion(message);
    if (bodyVersion !== undefined && bodyVersion !== version) {
      return mismatch(
        `${HeaderName.protocolVersion} ${quote(version)} does not match the body's protocol version ${quote(bodyVersion)}`,
        HeaderName.protocolVersion,
        version,
        bodyVersion,
      );
    }
  }

  const method = found['mcp-method'];
  if (method === undefined) {
    if (request) return mismatch(`${HeaderName.method} header is missing`, HeaderName.method, null, message.method);
  } else if (method !== message.method) {
    return mismatch(`${HeaderName.method} ${quote(method)} does not match the body's method ${quote(message.method)}`, HeaderName.method, method, message.method);
  }

  if (!request) return { ok: true };
  const source = mcpNameSource(message.method, message.params);
  if (source === undefined) return { ok: true };
  const name = found['mcp-name'];
  if (name === undefined) {
    if (source.value === undefined) return { ok: true };
    return mismatch(`${HeaderName.name} header is missing (the body names params.${source.field})`, HeaderName.name, null, source.value);
  }
  if (!isValidFieldValue(name)) return mismatch(`${HeaderName.name} has invalid characters`, HeaderName.name, name);
  const decoded = decodeHeaderValue(name);
  if (decoded === undefined) return mismatch(`${HeaderName.name} carries an invalid Base64 sentinel`, HeaderName.name, name);
  if (decoded !== source.value) {
    const body = source.value === undefined ? 'nothing' : quote(source.value);
    return mismatch(`${HeaderName.name} ${quote(decoded)} does not match params.${source.field} ${body}`, HeaderName.name, name, source.value);
  }
  return { ok: true };
}

/**
 * The headers a client (the gateway toward a modern upstream) sends with one POST: content
 * negotiation, `MCP-Protocol-Version`, `Mcp-Method` and, where the method has one, `Mcp-Name`
 * (encoded when unsafe). For tools/call, pass the tool's `x-mcp-header` declarations to add
 * its `Mcp-Param-*` headers. Throws TypeError when the body declares a different version than
 * `protocolVersion`: that would be refused upstream as a mismatch, so it is a bug here.
 *
 * @example
 * modernHeadersFor({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_weather' } }, '2026-07-28')
 * // → { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
 * //     'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/call', 'Mcp-Name': 'get_weather' }
 */
export function modernHeadersFor(message: JsonRpcMessage, protocolVersion: string, paramDeclarations?: readonly ParamHeaderDeclaration[]): Record<string, string> {
  const bodyVersion = envelopeVersion(message);
  if (bodyVersion !== undefined && bodyVersion !== protocolVersion) {
    throw new TypeError(`modernHeadersFor: the body declares protocol version ${bodyVersion}, not ${protocolVersion}`);
  }
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    [HeaderName.protocolVersion]: protocolVersion,
  };
  if (!('method' in message)) return headers;
  headers[HeaderName.method] = message.method;
  const source = mcpNameSource(message.method, message.params);
  if (source?.value !== undefined) headers[HeaderName.name] = encodeHeaderValue(source.value);
  if (paramDeclarations !== undefined && message.method === 'tools/call') {
    Object.assign(headers, paramHeadersFor(paramDeclarations, message.params?.arguments));
  }
  return headers;
}
