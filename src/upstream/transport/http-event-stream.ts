import { ACCEPT_SSE, type Body, isSuccess, mediaType } from './http-body.js';
import { consume, pause, type StreamOwner, type StreamState } from './http-stream.js';

/*
 * The standalone GET stream: server-initiated messages not tied to a request (list_changed,
 * roots/list, …). It is reopened whenever it drops, after the server's `retry:` delay doubled
 * per failure up to a cap, until the transport closes, the server says it has none (405), or
 * the server no longer knows the session (http-session.ts).
 */

const MAX_BACKOFF_MS = 30_000;

/** Reads the opened stream `first` and every reconnection of it; resolves when it is over for good. */
export async function followEventStream(owner: StreamOwner, first: Body, stream: StreamState): Promise<void> {
  let body: Body | undefined = first;
  let failures = 0;
  while (!stream.signal.aborted) {
    if (body !== undefined) {
      try {
        await consume(owner, body, stream);
      } catch (err) {
        if (stream.signal.aborted) break;
        owner.report('event stream dropped', err);
      }
    }
    const delay = Math.min(stream.retryMs * 2 ** failures, MAX_BACKOFF_MS);
    if (!(await pause(delay, stream.signal))) break;
    body = undefined;
    try {
      const res = await owner.get(stream);
      if (isSuccess(res) && mediaType(res) === ACCEPT_SSE) {
        body = res.body;
        failures = 0;
        continue;
      }
      await res.body.dump().catch(() => undefined);
      if (res.statusCode === 405) break;
      if (owner.rejectsSession(res.statusCode)) {
        owner.loseSession(res.statusCode, 'when reconnecting the event stream');
        break;
      }
      owner.report(`answered HTTP ${res.statusCode} when reconnecting the event stream`);
    } catch (err) {
      if (stream.signal.aborted) break;
      owner.report('could not reconnect the event stream', err);
    }
    failures++;
  }
}
