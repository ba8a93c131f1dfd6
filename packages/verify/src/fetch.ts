import { BodyError } from './errors.js';
import { parseBody, refusalFor } from './refusal.js';
import type { CallChain, CallVerifier } from './verifier.js';

/** A web-standard handler, like SDK v2's `createMcpHandler(...).fetch`. */
export type FetchHandler = (request: Request) => Promise<Response>;

/**
 * Wraps a fetch-style MCP handler (SDK v2 servers, Hono, Deno, Bun…): verifies the per-call token
 * of each POSTed call before the handler sees it, and answers 401/403 with a JSON-RPC error when it
 * fails. `onVerified` receives the chain (user, agent, gateway) of each verified call.
 *
 * @example
 * const handler = createMcpHandler(() => buildServer());
 * const guarded = verifyFetchRequests(verifier, (r) => handler.fetch(r));
 */
export function verifyFetchRequests(verifier: CallVerifier, next: FetchHandler, onVerified?: (chain: CallChain, request: Request) => void): FetchHandler {
  return async (request: Request): Promise<Response> => {
    if (request.method !== 'POST') return next(request);
    let body: unknown;
    try {
      body = parseBody(await request.clone().text());
      if (body === undefined) throw new BodyError('the body is not JSON');
      const chain = await verifier.verify(request.headers.get('authorization') ?? undefined, body);
      if (chain !== undefined) onVerified?.(chain, request);
    } catch (err) {
      const refusal = refusalFor(err, body);
      return new Response(refusal.body, { status: refusal.status, headers: refusal.headers });
    }
    return next(request);
  };
}
