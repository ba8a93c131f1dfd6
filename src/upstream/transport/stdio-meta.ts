import { CREDENTIAL_META_KEY } from '@toolgate/verify';
import type { JsonRpcMessage } from '../../protocol/jsonrpc.js';

/**
 * The request with `authorization` (e.g. "Bearer eyJ…") in `params._meta`, or the message as it
 * was when there is no credential or it is not a request. A copy: the original may be re-sent.
 */
export function withCredentialMeta(message: JsonRpcMessage, authorization: string | undefined): JsonRpcMessage {
  if (authorization === undefined || !('method' in message) || !('id' in message)) return message;
  const params = (message.params ?? {}) as Record<string, unknown>;
  const meta = (params._meta ?? {}) as Record<string, unknown>;
  return { ...message, params: { ...params, _meta: { ...meta, [CREDENTIAL_META_KEY]: authorization } } } as JsonRpcMessage;
}
