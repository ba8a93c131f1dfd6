/*
 * W3C trace context (`traceparent`, `tracestate`) and W3C baggage, as a client sends them in HTTP
 * headers or in a request's `params._meta`: validated here, and the call's instruction (the
 * allow-listed baggage / `_meta` keys) picked out. A value that is not well formed is dropped
 * and counted, never passed on.
 */

/** How many values were dropped as malformed, per field: read by whoever reports on the gateway. */
export interface TraceContextDrops {
  traceparent: number;
  tracestate: number;
  baggage: number;
  /** Allow-listed instruction values that were not printable or longer than 256 characters. */
  instruction: number;
}

export function newTraceContextDrops(): TraceContextDrops {
  return { traceparent: 0, tracestate: 0, baggage: 0, instruction: 0 };
}

/** What the gateway keeps of one request's trace context: only validated values. */
export interface TraceContext {
  traceparent?: string;
  tracestate?: string;
  instruction?: Record<string, string>;
}

/** Where the context came from: the message's `_meta` or the HTTP headers, and which one wins. */
export interface TraceSources {
  headers?: Readonly<Record<string, string | string[] | undefined>>;
  meta?: Record<string, unknown>;
  /** 2026-07-28: the message's `_meta` is the MCP-level truth; 2025 eras: the headers are. */
  preferMeta: boolean;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** A `traceparent` of version 00 with a trace id and parent id that are not all zero. */
export function isTraceparent(value: string): boolean {
  const m = TRACEPARENT.exec(value);
  return m !== null && m[1] !== ZERO_TRACE && m[2] !== ZERO_SPAN;
}

/** The trace id of a valid `traceparent`. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  if (traceparent === undefined || !isTraceparent(traceparent)) return undefined;
  return traceparent.slice(3, 35);
}

const TRACESTATE_KEY = /^(?:[a-z0-9][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13})$/;
const TRACESTATE_VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/** A `tracestate` within the W3C limits (at most 32 members, 512 characters), each member `key=value`. */
export function isTracestate(value: string): boolean {
  if (value.length > 512) return false;
  let members = 0;
  for (const raw of value.split(',')) {
    const member = raw.trim();
    if (member.length === 0) continue;
    if (++members > 32) return false;
    const eq = member.indexOf('=');
    if (eq <= 0 || !TRACESTATE_KEY.test(member.slice(0, eq)) || !TRACESTATE_VALUE.test(member.slice(eq + 1))) return false;
  }
  return true;
}

const BAGGAGE_KEY = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAGGAGE_VALUE = /^(?:[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]|%[0-9A-Fa-f]{2})*$/;
const BAGGAGE_MAX_BYTES = 8192;

/** The entries of a W3C `baggage` value (values percent-decoded, properties left out); undefined when malformed. */
export function parseBaggage(value: string): Map<string, string> | undefined {
  // A UTF-16 unit is at most 3 UTF-8 bytes: only a long value needs counting.
  if (value.length * 3 > BAGGAGE_MAX_BYTES && Buffer.byteLength(value) > BAGGAGE_MAX_BYTES) return undefined;
  const entries = new Map<string, string>();
  for (const raw of value.split(',')) {
    const semicolon = raw.indexOf(';');
    const member = semicolon < 0 ? raw : raw.slice(0, semicolon);
    const eq = member.indexOf('=');
    if (eq < 0) return undefined;
    const key = member.slice(0, eq).trim();
    const encoded = member.slice(eq + 1).trim();
    if (!BAGGAGE_KEY.test(key) || !BAGGAGE_VALUE.test(encoded)) return undefined;
    if (!encoded.includes('%')) entries.set(key, encoded);
    else {
      try {
        entries.set(key, decodeURIComponent(encoded));
      } catch {
        return undefined;
      }
    }
  }
  return entries;
}

/** `key=value` list of the instruction, values percent-encoded: the baggage passed on upstream. */
export function formatBaggage(instruction: Record<string, string>): string {
  let out = '';
  for (const key in instruction) out += `${out ? ',' : ''}${key}=${encodeURIComponent(instruction[key]!)}`;
  return out;
}

const INSTRUCTION_VALUE = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]{1,256}$/u;

/** An instruction value the gateway records and passes on: printable, 1 to 256 characters. */
export function isInstructionValue(value: string): boolean {
  return INSTRUCTION_VALUE.test(value);
}

/**
 * The validated trace context of one request. Each field comes from the preferred source when
 * that source carries it, otherwise from the other; `tracestate` only with the `traceparent` of
 * its own source (a `tracestate` without a valid `traceparent` means nothing). The instruction:
 * an allow-listed key of `_meta` itself, then the same key in the chosen baggage.
 */
export function readTraceContext(sources: TraceSources, instructionKeys: readonly string[], drops: TraceContextDrops): TraceContext {
  const { headers, meta, preferMeta } = sources;
  const fromMeta = {
    traceparent: meta?.traceparent,
    tracestate: meta?.tracestate,
    baggage: meta?.baggage,
  };
  const fromHeaders = {
    traceparent: single(headers?.traceparent),
    tracestate: single(headers?.tracestate),
    baggage: single(headers?.baggage),
  };
  const [first, second] = preferMeta ? [fromMeta, fromHeaders] : [fromHeaders, fromMeta];
  const ctx: TraceContext = {};
  const pair = first.traceparent !== undefined ? first : second;
  if (pair.traceparent !== undefined) {
    if (typeof pair.traceparent === 'string' && isTraceparent(pair.traceparent)) {
      ctx.traceparent = pair.traceparent;
      if (pair.tracestate !== undefined) {
        if (typeof pair.tracestate === 'string' && isTracestate(pair.tracestate)) ctx.tracestate = pair.tracestate;
        else drops.tracestate++;
      }
    } else drops.traceparent++;
  }
  if (instructionKeys.length === 0) return ctx;
  const rawBaggage = first.baggage !== undefined ? first.baggage : second.baggage;
  let baggage: Map<string, string> | undefined;
  if (rawBaggage !== undefined) {
    baggage = typeof rawBaggage === 'string' ? parseBaggage(rawBaggage) : undefined;
    if (baggage === undefined) drops.baggage++;
  }
  if (meta === undefined && baggage === undefined) return ctx;
  let instruction: Record<string, string> | undefined;
  for (const key of instructionKeys) {
    const value = meta?.[key] !== undefined ? meta[key] : baggage?.get(key);
    if (value === undefined) continue;
    if (typeof value !== 'string' || !isInstructionValue(value)) {
      drops.instruction++;
      continue;
    }
    instruction ??= {};
    instruction[key] = value;
  }
  if (instruction !== undefined) ctx.instruction = instruction;
  return ctx;
}

function single(value: string | string[] | undefined): string | undefined {
  // Node joins repeated headers except these; a repeated traceparent arrives as an array or "a, b" and fails the pattern.
  return Array.isArray(value) ? value.join(',') : value;
}

/** The `_meta` keys that carry trace context (the 2026-07-28 convention, also read from 2025-era clients). */
export const TRACE_META_KEYS = ['traceparent', 'tracestate', 'baggage'] as const;

/**
 * `meta` with its trace keys replaced by what the gateway passes on (`headers`, already
 * validated: traceparent, tracestate, baggage); the same object when neither has any, so a call
 * without trace context copies nothing. A client's own, unvalidated values never pass.
 */
export function withTraceMeta(meta: Record<string, unknown> | undefined, headers: Readonly<Record<string, string>> | undefined): Record<string, unknown> | undefined {
  const carried = meta !== undefined && (meta.traceparent !== undefined || meta.tracestate !== undefined || meta.baggage !== undefined);
  const passing = headers !== undefined && (headers.traceparent !== undefined || headers.baggage !== undefined);
  if (!carried && !passing) return meta;
  const out: Record<string, unknown> = { ...meta };
  for (const key of TRACE_META_KEYS) {
    const value = headers?.[key];
    if (value !== undefined) out[key] = value;
    else delete out[key];
  }
  return out;
}
