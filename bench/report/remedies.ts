import type { SelfTimeEntry } from '../profile/self-time.js';

/**
 * What would shrink a hot entry of the gateway's CPU profile. Written from reading the profile
 * and the code it points at; a remedy is printed only when the run's profile shows one of its
 * functions among the top entries, so a fixed problem drops out of the report by itself.
 * When the code a remedy names changes, update the remedy.
 */
export interface Remedy {
  title: string;
  matches(entry: SelfTimeEntry): boolean;
  advice: string;
}

const fn = (name: string | RegExp, where?: RegExp) => (e: SelfTimeEntry): boolean =>
  (typeof name === 'string' ? e.function === name : name.test(e.function)) && (where === undefined || where.test(e.location));

export const REMEDIES: Remedy[] = [
  {
    title: 'Socket writes (the floor of any HTTP hop)',
    matches: fn(/^(writev|writeGeneric|writevGeneric|writeBuffer|writeUtf8String)$/),
    advice:
      'Each forwarded call writes twice to a loopback socket: the response to the client and the request to the upstream (writev is the syscall, charged with the kernel\'s loopback delivery). The bare pass-through in the floor-http row pays the same. toolgate cannot remove it except by not adding the hop (a stdio upstream has no second socket write); keep it to one write each — headers and body corked together, as today — and never split a response into write() + end().',
  },
  {
    title: 'An AbortError built for every finished upstream request',
    matches: fn(/^(DOMException|abort|abortSignal)$/, /abort_controller|domexception|^$/),
    advice:
      'src/upstream (HttpUpstreamTransport.untrack, called when a request\'s body has been read) calls controller.abort() on every request\'s own AbortController; abort() with no reason constructs a DOMException, whose stack capture is the cost. Once the answer is in there is nothing to abort: remove the caller-signal listener and drop the controller instead, and abort only requests still in flight (close(), caller cancellation).',
  },
  {
    title: 'AbortControllers created per call',
    matches: fn(/^(createAbortSignal|AbortController|get signal)$/),
    advice:
      'Two AbortControllers are made per call: one per downstream request in src/mcp/endpoint.ts McpEndpoint.request (used only if the client sends notifications/cancelled) and one per upstream send in src/upstream (track). Create the downstream one lazily when a cancellation arrives (keep a pending-cancel flag per request id) and let the upstream request use the caller\'s signal directly when it has one.',
  },
  {
    title: 'Garbage collection: per-request objects kept alive for a minute',
    matches: fn('(garbage collector)'),
    advice:
      'src/mcp/endpoint.ts McpEndpoint.request keeps every request\'s MessageChannel — and through it the ServerResponse and socket — in session.channels for 60 s via one setTimeout per request, even when the answer went out as plain JSON and can never be resumed. At thousands of calls/s that is hundreds of thousands of live objects: each old-space GC marks them all, and RSS grows with throughput (see rss_mb in the scenario rows). Drop the channel as soon as it has ended in JSON mode (only SSE channels can be resumed with Last-Event-ID), release `res` in MessageChannel.finish(), and expire SSE channels with one sweep per session rather than a timer per request.',
  },
  {
    title: 'undici request set-up per call',
    matches: fn(/^(Request|RequestHandler|parseURL|parseOrigin|request|dispatch|\(anonymous\))$/, /undici\/(index\.js|lib\/core\/request|lib\/api\/api-request|lib\/core\/util)/),
    advice:
      'HttpUpstreamTransport calls undici.request(urlString, { dispatcher: agent }) per message: the URL is parsed and the Agent looks up its origin pool every time. A Pool (or Client) per upstream origin, called as pool.request({ path, method, headers, body }) with the path pre-computed at start-up, skips both; headers can be a prebuilt array with only the per-call values changed.',
  },
  {
    title: 'Async hops on the forwarding path',
    matches: fn(/^(runMicrotasks|processTicksAndRejections|nextTick)$/),
    advice:
      'Each awaited stage resumes through the microtask queue. Today the pass-through stages are async functions that return immediately (identity.authenticate, credentials.credentialFor, two audit.record calls per call): when a stage has nothing to wait for, let it return a plain value and skip the await (`const r = stage(); if (r instanceof Promise) await r`), and keep the stages that land later synchronous where they can be (Cedar evaluation and signing are synchronous).',
  },
];

/** The remedies whose functions appear in `entries`, each with the entries that matched. */
export function remediesFor(entries: SelfTimeEntry[]): Array<{ remedy: Remedy; entries: SelfTimeEntry[] }> {
  const out: Array<{ remedy: Remedy; entries: SelfTimeEntry[] }> = [];
  for (const remedy of REMEDIES) {
    const hit = entries.filter((e) => remedy.matches(e));
    if (hit.length > 0) out.push({ remedy, entries: hit });
  }
  return out;
}
