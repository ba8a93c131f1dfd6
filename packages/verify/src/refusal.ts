import { CallTokenError } from './errors.js';

/** The HTTP answer to a refused call: JSON-RPC error with the stable code in `data.code`. */
export interface Refusal {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** JSON-RPC error code for "the per-call credential was refused" (implementation-defined range). */
export const CALL_TOKEN_REFUSED = -32001;

export function refusalFor(err: unknown, body: unknown): Refusal {
  const id = body !== null && typeof body === 'object' && 'id' in body ? ((body as { id: unknown }).id ?? null) : null;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (!(err instanceof CallTokenError)) {
    // Not a verdict on the token (the body could not be read…): say nothing more than that.
    return { status: 500, headers, body: JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32603, message: 'the call could not be verified' } }) };
  }
  if (err.status === 401) headers['www-authenticate'] = `Bearer error="invalid_token", error_description="${err.code}"`;
  return {
    status: err.status,
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id, error: { code: CALL_TOKEN_REFUSED, message: err.message, data: { code: err.code } } }),
  };
}

export function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
