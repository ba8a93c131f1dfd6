import { createHash } from 'node:crypto';

/** The `prev` of a chain's first record: 32 zero bytes, hex. */
export const GENESIS = '0'.repeat(64);

/**
 * RFC 8785 (JCS) bytes of a JSON value. Records are stored and exported as exactly these bytes,
 * so anyone can recompute a hash without trusting toolgate's serializer.
 *
 * Every record passes through here on the gateway's event loop, so this is a direct serializer
 * rather than `canonicalize@4` (measured 11 → 4.4 µs for a decision record); its output and its
 * errors are those of `canonicalize@4`, which test/audit-canonical.test.ts checks value by value.
 *
 * @example
 * canonicalBytes({ b: [1, 'x'], a: null }) // '{"a":null,"b":[1,"x"]}'
 */
export function canonicalBytes(value: unknown): string {
  const text = write(value, []);
  if (text === undefined) throw new TypeError('cannot canonicalize an undefined value');
  return text;
}

/** SHA-256 of the canonical bytes, lowercase hex: the leaf hash of a record. */
export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** What JSON escapes (quote, backslash, controls), and surrogates (checked for lone ones): without any, a string is quoted as it is. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the fast path must find exactly the characters JSON escapes, and U+0000–U+001F are among them
const SPECIAL = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Nesting below which cycles are not looked for (a cycle repeats, so it is still found deeper). */
const CYCLE_CHECK_DEPTH = 32;

function write(value: unknown, ancestors: object[]): string | undefined {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      if (Number.isNaN(value)) throw new Error('NaN is not allowed');
      if (!Number.isFinite(value)) throw new Error('Infinity is not allowed');
      // Number::toString, as JSON.stringify (and so JCS) writes a finite number.
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      return value === null ? 'null' : writeObject(value, ancestors);
    default:
      // undefined, functions, symbols (JSON.stringify gives undefined); bigint throws.
      return JSON.stringify(value);
  }
}

function writeObject(value: object, ancestors: object[]): string | undefined {
  if (ancestors.length >= CYCLE_CHECK_DEPTH && ancestors.includes(value)) throw new Error('Circular reference detected');
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    ancestors.push(value);
    const text = write(toJSON.call(value), ancestors);
    ancestors.pop();
    return text;
  }
  ancestors.push(value);
  let out: string;
  if (Array.isArray(value)) {
    out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      // A hole stays empty, as Array#map then join leave it.
      if (!(i in value)) continue;
      const item: unknown = value[i];
      out += item === undefined || typeof item === 'symbol' ? 'null' : (write(item, ancestors) ?? '');
    }
    out += ']';
  } else {
    out = '{';
    let first = true;
    for (const key of Object.keys(value).sort()) {
      const item: unknown = (value as Record<string, unknown>)[key];
      if (item === undefined || typeof item === 'symbol') continue;
      out += `${first ? '' : ','}${quote(key)}:${write(item, ancestors)}`;
      first = false;
    }
    out += '}';
  }
  ancestors.pop();
  return out;
}

function quote(text: string): string {
  if (!SPECIAL.test(text)) return `"${text}"`;
  if (hasLoneSurrogate(text)) throw new Error('Lone surrogate is not allowed');
  return JSON.stringify(text);
}

function hasLoneSurrogate(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xdc00 && code <= 0xdfff) return true;
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i++;
    }
  }
  return false;
}
