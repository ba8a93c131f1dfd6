import { BodyError } from './errors.js';

/** The methods a per-call token is minted for: the ones toolgate routes through policy. */
export const BOUND_METHODS = new Set(['tools/call', 'prompts/get', 'resources/read', 'completion/complete']);

/** What a token must match in the request: the method, the tool (or prompt, or URI), the arguments. */
export interface CallBinding {
  method: string;
  tool: string;
  arguments: unknown;
}

/**
 * The call a JSON-RPC body makes, the same way toolgate's router reads it (src/mcp/router.ts),
 * or undefined for messages no token is minted for (initialize, lists, notifications, responses).
 * A batch that contains a bound call is refused: one token binds exactly one call.
 */
export function bindingOf(body: unknown): CallBinding | undefined {
  if (Array.isArray(body)) {
    if (body.some((m) => bindingOf(m) !== undefined)) throw new BodyError('a batch cannot carry a per-call token; send each call on its own');
    return undefined;
  }
  if (body === null || typeof body !== 'object') throw new BodyError('the body is not a JSON-RPC message');
  const message = body as { method?: unknown; params?: Record<string, unknown> };
  if (typeof message.method !== 'string' || !BOUND_METHODS.has(message.method)) return undefined;
  const params = message.params ?? {};
  switch (message.method) {
    case 'resources/read':
      return { method: message.method, tool: String(params.uri ?? ''), arguments: {} };
    case 'completion/complete': {
      const ref = (params.ref ?? {}) as Record<string, unknown>;
      return { method: message.method, tool: String(ref.name ?? ref.uri ?? ''), arguments: params.argument ?? {} };
    }
    default:
      return { method: message.method, tool: String(params.name ?? ''), arguments: params.arguments ?? {} };
  }
}
