/**
 * What a parsed JSON value is, before it is trusted as a protocol shape. One definition for
 * every reader of untrusted JSON: a "JSON object" is a non-null, non-array object.
 */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value if it is a JSON object, else an empty one: for optional fields read leniently. */
export function objectOr(v: unknown): Record<string, unknown> {
  return isObject(v) ? v : {};
}
