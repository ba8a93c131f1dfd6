import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RunningGateway } from '../../src/gateway.js';

/**
 * Whether the gateway holds an open standalone GET stream for this SDK client's session. The
 * client opens it on its own after initialize; notifications that travel on it (list_changed,
 * resources/updated) only arrive once it is there.
 */
export function standaloneStreamOpen(gateway: RunningGateway, client: Client): boolean {
  const sessionId = client.transport?.sessionId;
  const stream = sessionId === undefined ? undefined : gateway.sessions.get(sessionId)?.standalone;
  return stream?.isAttached === true && !stream.isEnded;
}
