/**
 * Header value encoding for `Mcp-Name` and `Mcp-Param-*` (basic/transports/streamable-http.mdx,
 * "Value Encoding"): a value that is not safe as a plain HTTP field value (non-ASCII, control
 * characters, leading/trailing whitespace, empty, or itself shaped like the sentinel) travels
 * as `=?base64?{base64 of UTF-8}?=`. The markers are case-sensitive.
 */

const PREFIX = '=?base64?';
const SUFFIX = '?=';
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function isSentinel(value: string): boolean {
  return value.length >= PREFIX.length + SUFFIX.length && value.startsWith(PREFIX) && value.endsWith(SUFFIX);
}

/** RFC 9110 field-value characters: visible ASCII, space and horizontal tab. */
export function isValidFieldValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c !== 0x09 && (c < 0x20 || c > 0x7e)) return false;
  }
  return true;
}

/** Strips optional whitespace (SP, HTAB) around a field value, as HTTP field parsing does. */
export function trimFieldValue(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value[start] === ' ' || value[start] === '\t')) start++;
  while (end > start && (value[end - 1] === ' ' || value[end - 1] === '\t')) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

function needsEncoding(value: string): boolean {
  if (value.length === 0 || isSentinel(value)) return true;
  if (value !== trimFieldValue(value)) return true;
  return !isValidFieldValue(value);
}

/**
 * Encodes a string for an `Mcp-Name` / `Mcp-Param-*` header.
 *
 * @example encodeHeaderValue('get_weather') // 'get_weather'
 * @example encodeHeaderValue('Hello, 世界') // '=?base64?SGVsbG8sIOS4lueVjA==?='
 */
export function encodeHeaderValue(value: string): string {
  if (!needsEncoding(value)) return value;
  return `${PREFIX}${Buffer.from(value, 'utf8').toString('base64')}${SUFFIX}`;
}

/**
 * Decodes a received header value (already trimmed of surrounding whitespace). Plain values
 * come back unchanged; a sentinel whose payload is not canonical Base64 of valid UTF-8 gives
 * `undefined`, which the caller rejects as a header mismatch.
 *
 * @example decodeHeaderValue('=?base64?ZWNobw==?=') // 'echo'
 * @example decodeHeaderValue('=?base64?!!?=') // undefined
 */
export function decodeHeaderValue(value: string): string | undefined {
  if (!isSentinel(value)) return value;
  const payload = value.slice(PREFIX.length, value.length - SUFFIX.length);
  if (!CANONICAL_BASE64.test(payload)) return undefined;
  try {
    return utf8.decode(Buffer.from(payload, 'base64'));
  } catch {
    return undefined;
  }
}
