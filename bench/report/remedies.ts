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

const fn =
  (name: string | RegExp, where?: RegExp) =>
  (e: SelfTimeEntry): boolean =>
    (typeof name === 'string' ? e.function === name : name.test(e.function)) && (where === undefined || where.test(e.location));

export const REMEDIES: Remedy[] = [
  {
    title: 'Socket writes (the floor of any HTTP hop)',
    matches: fn(/^(writev|writeGeneric|writevGeneric|writeBuffer|writeUtf8String)$/),
    advice:
      "Each forwarded call writes twice to a loopback socket: the response to the client and the request to the upstream (writev is the syscall, charged with the kernel's loopback delivery). The bare pass-through in the floor-http row pays the same. toolgate cannot remove it except by not adding the hop (a stdio upstream has no second socket write); keep it to one write each — headers and body corked together, as today — and never split a response into write() + end().",
  },
  {
    title: 'AbortControllers created per call',
    matches: fn(/^(createAbortSignal|AbortController|get signal)$/),
    advice:
      'One AbortController remains per downstream request, in src/mcp/endpoint.ts McpEndpoint.request (the upstream transport now shares one lifetime signal for requests without a caller signal). It is used only if the client sends notifications/cancelled for that request: create it lazily when a cancellation arrives (a pending-cancel flag per request id) and hand the transport no signal until then.',
  },
  {
    title: 'Garbage collection: per-call allocations',
    matches: fn('(garbage collector)'),
    advice:
      'Answered calls no longer keep their stream (dropped as soon as the answer reached the client), so what the collector handles now is short-lived per-call garbage: the parsed request, the audit record body and its canonical string, the minted token, header objects, the upstream answer parsed and serialised again. The largest single source to cut is parsing and re-serialising the upstream answer: relay the body bytes with only the id rewritten where the message allows it.',
  },
  {
    title: 'Ed25519 signing of the per-call token',
    matches: fn(/^(sign|signOneShot|Sign)$/),
    advice:
      "Minting signs one token per allowed call (src/credentials/minter.ts). It cannot be cached (the token names the call and its argument hash), but it can overlap the durable wait: the decision record's hash is known before its commit is on disk, so the token could be minted while the commit is in flight instead of after it (needs an audit-sink method that returns the reference before durability).",
  },
  {
    title: 'Async hops on the forwarding path',
    matches: fn(/^(runMicrotasks|processTicksAndRejections|nextTick)$/),
    advice:
      'Each awaited stage resumes through the microtask queue. The policy decision is no longer awaited when it is synchronous; identity (a cache hit), credentials (minting is synchronous) and the stages with nothing to do still return promises: return plain values where a stage has nothing to wait for and await only a real promise (`const r = stage(); if (r instanceof Promise) await r`).',
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
