import { CREDENTIAL_META_KEY } from './claims.js';
import { CallTokenError } from './errors.js';
import { CALL_TOKEN_REFUSED } from './refusal.js';
import type { CallChain, CallVerifier } from './verifier.js';

/** The part of an MCP SDK transport (v1 or v2) this needs: the message hook and send. */
export interface MessageTransport {
  onmessage?(message: unknown, extra?: unknown): void;
  send(message: unknown, options?: unknown): Promise<void>;
}

/**
 * For servers on stdio (no headers): toolgate puts the per-call token in the request's
 * `params._meta["io.toolgate/authorization"]`. Call this after `server.connect(transport)`: every
 * call is verified before the server sees it, the token is removed from `_meta` (tool code never
 * sees it), and a refused call is answered with a JSON-RPC error carrying the stable code.
 *
 * @example
 * await server.connect(transport);
 * verifyTransportMessages(verifier, transport, (chain) => console.error(chain.user, chain.agent));
 */
export function verifyTransportMessages(verifier: CallVerifier, transport: MessageTransport, onVerified?: (chain: CallChain) => void): void {
  const deliver = transport.onmessage;
  if (deliver === undefined) throw new TypeError('verifyTransportMessages: connect the server to the transport first');
  transport.onmessage = (received: unknown, extra?: unknown) => {
    if (!verifier.requiresToken(received)) {
      deliver.call(transport, received, extra);
      return;
    }
    const message = received as { id?: unknown; params?: { _meta?: Record<string, unknown> } };
    const meta = (message.params?._meta ?? {}) as Record<string, unknown>;
    const authorization = typeof meta[CREDENTIAL_META_KEY] === 'string' ? (meta[CREDENTIAL_META_KEY] as string) : undefined;
    const { [CREDENTIAL_META_KEY]: _token, ...rest } = meta;
    const stripped = { ...message, params: { ...message.params, _meta: rest } };
    verifier.verify(authorization, stripped).then(
      (chain) => {
        if (chain !== undefined) onVerified?.(chain);
        deliver.call(transport, stripped, extra);
      },
      (err: unknown) => {
        const code = err instanceof CallTokenError ? err.code : 'ERR_CALL_TOKEN';
        const text = err instanceof Error ? err.message : String(err);
        void transport.send({ jsonrpc: '2.0', id: message.id, error: { code: CALL_TOKEN_REFUSED, message: text, data: { code } } }).catch(() => {});
      },
    );
  };
}
