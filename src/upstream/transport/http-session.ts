import { type Dispatcher, request } from 'undici';

/*
 * Losing the upstream session, and the rule the HTTP transport uses to say so.
 *
 * The spec (2025-11-25, Streamable HTTP, "Session Management") has a server answer a request that
 * carries a session id it no longer knows with 404; the client then starts over with initialize.
 * Servers built on SDK v1 — most of those in use — answer 400 instead, after a restart as much as
 * after expiry: "Bad Request: No valid session ID provided" (the SDK's examples, server-everything:
 * their session map lacks the id) or "Bad Request: Server not initialized" (a single-session
 * transport created anew). Both mean the server refused the request before dispatching it.
 *
 * Rule: a request that carried `Mcp-Session-Id` and was answered 404 or 400 is a session
 * rejection. The error body is not read: its wording differs between servers and SDK versions,
 * and a client that matched it would break on the next release. A 400 can also mean something
 * else (a proxy's own validation, a protocol version the server stopped accepting), so the
 * transport only reports, and the owner (src/upstream/client.ts) bounds what a wrong guess
 * costs: one re-handshake for all requests refused together, one retry per request, and a
 * probation after each re-handshake during which refusals are not taken for session loss.
 *
 * What the transport does on a rejection:
 * - reports it first, through onerror, as an UpstreamTransportError with code SESSION_EXPIRED;
 * - a POST: send() rejects with that code and nothing is delivered for the request, which the
 *   server did not run, so the owner may send it again on a new session;
 * - a GET: 404 always counts; 400 only for a stream the session had open before (reconnecting
 *   the standalone stream, resuming a request's stream). That stream stops; a request whose
 *   stream it was gets a -32010 error, since the server may have run it. A 400 to a session's
 *   first GET is a refused event stream, not evidence about the session;
 * - it does not close itself, even on 404: other requests of the lost session are still in
 *   flight, and each must get its own answer (a refusal, to be retried, or its response).
 */

/** `UpstreamTransportError.code` of a session rejection. */
export const SESSION_EXPIRED = 'ERR_UPSTREAM_SESSION_EXPIRED';

/** The rule above, given that the request carried a session id. */
export function isSessionRejection(status: number): boolean {
  return status === 404 || status === 400;
}

const DELETE_TIMEOUT_MS = 5000;

/**
 * Ends a session with DELETE. Returns what went wrong, for the caller to report, or undefined.
 * 404, and 400 from SDK v1 servers, mean the session was already gone, which is what DELETE
 * wanted; 405 means the server does not let clients end sessions.
 */
export async function endSession(url: string, dispatcher: Dispatcher, headers: Record<string, string>): Promise<{ what: string; cause?: unknown } | undefined> {
  try {
    const res = await request(url, { method: 'DELETE', dispatcher, headers, signal: AbortSignal.timeout(DELETE_TIMEOUT_MS) });
    await res.body.dump();
    const status = res.statusCode;
    if ((status >= 200 && status < 300) || status === 405 || status === 404 || status === 400) return undefined;
    return { what: `answered HTTP ${status} to the session DELETE` };
  } catch (err) {
    return { what: 'could not end the session', cause: err };
  }
}
