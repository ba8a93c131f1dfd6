import { CREDENTIAL_META_KEY } from '@toolgate/verify';
import type { JsonRpcMessage } from '../../protocol/jsonrpc.js';
import { withTraceMeta } from '../../protocol/trace-context.js';

/**
 * The request with what its HTTP headers would have carried in `params._meta`: `authorization`
 * (e.g. "Bearer eyJ…") under CREDENTIAL_META_KEY, and `traceparent`, `tracestate`, `baggage`
 * under their own names. The message as it was when there is nothing to add or it is not a
 * request. A copy: the original may be re-sent.
 */
export function withCredentialMeta(message: JsonRpcMessage, headers: Readonly<Record<string, string>> | undefined): JsonRpcMessage {
  if (headers === undefined || !('method' in message) || !('id' in message)) return message;
  const authorization = headers.authorization;
  const params = (message.params ?? {}) as Record<string, unknown>;
  const meta = withTraceMeta(params._meta as Record<string, unknown> | undefined, headers);
  if (authorization === undefined && meta === params._meta) return message;
  return { ...message, params: { ...params, _meta: { ...meta, ...(authorization !== undefined ? { [CREDENTIAL_META_KEY]: authorization } : {}) } } } as JsonRpcMessage;
}
