/**
 * The `limits:` section of the config file: how much one principal may hold open at once
 * (sessions, calls in flight, response streams) and how many bytes a response stream may keep
 * for a client that is not reading. Its schema is imported by schema.ts, its resolution by
 * resolve.ts; docs/config.md "Limits" describes every key.
 */
import { z } from 'zod';

export interface LimitsConfig {
  /** Live sessions (2025 eras) one principal may hold; initialize past it answers 429. */
  sessionsPerPrincipal: number;
  /** Requests of one principal in flight at once; one more is answered with a JSON-RPC error. */
  callsPerPrincipal: number;
  /** SSE response streams (a call's or the GET stream) one principal may hold open at once. */
  streamsPerPrincipal: number;
  /** Bytes one stream may hold for a client that is not taking them; also what is kept for resumption. */
  streamBufferBytes: number;
  /** Bytes all streams together may hold for clients that are not taking them. */
  totalStreamBufferBytes: number;
}

export const LIMIT_DEFAULTS: LimitsConfig = Object.freeze({
  sessionsPerPrincipal: 100,
  callsPerPrincipal: 64,
  // Each session's GET stream counts: room for the sessions' streams and a share of the calls'.
  streamsPerPrincipal: 128,
  streamBufferBytes: 1024 * 1024,
  totalStreamBufferBytes: 64 * 1024 * 1024,
});

const count = (what: string) =>
  z.preprocess((v) => (typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v), z.int({ error: `expected ${what}` }).positive({ error: `expected ${what}` }));

/** A stream must hold at least one ordinary message; below 64 KiB every progress stream would fail. */
const MIN_STREAM_BYTES = 64 * 1024;
const bytes = z.preprocess(
  (v) => (typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v),
  z.int({ error: `expected a number of bytes of at least ${MIN_STREAM_BYTES}` }).min(MIN_STREAM_BYTES, { error: `expected a number of bytes of at least ${MIN_STREAM_BYTES}` }),
);

export const limitsSection = z
  .strictObject(
    {
      sessions_per_principal: count('a positive number of sessions').optional(),
      calls_per_principal: count('a positive number of calls').optional(),
      streams_per_principal: count('a positive number of streams').optional(),
      stream_buffer_bytes: bytes.optional(),
      total_stream_buffer_bytes: bytes.optional(),
    },
    { error: 'expected a mapping of limits (sessions_per_principal, calls_per_principal, streams_per_principal, stream_buffer_bytes, total_stream_buffer_bytes)' },
  )
  .refine((l) => (l.total_stream_buffer_bytes ?? LIMIT_DEFAULTS.totalStreamBufferBytes) >= (l.stream_buffer_bytes ?? LIMIT_DEFAULTS.streamBufferBytes), {
    error: 'expected total_stream_buffer_bytes to be at least stream_buffer_bytes',
    path: ['total_stream_buffer_bytes'],
  });

export function resolveLimits(section: z.output<typeof limitsSection> | undefined): LimitsConfig {
  const l = section ?? {};
  return {
    sessionsPerPrincipal: l.sessions_per_principal ?? LIMIT_DEFAULTS.sessionsPerPrincipal,
    callsPerPrincipal: l.calls_per_principal ?? LIMIT_DEFAULTS.callsPerPrincipal,
    streamsPerPrincipal: l.streams_per_principal ?? LIMIT_DEFAULTS.streamsPerPrincipal,
    streamBufferBytes: l.stream_buffer_bytes ?? LIMIT_DEFAULTS.streamBufferBytes,
    totalStreamBufferBytes: l.total_stream_buffer_bytes ?? LIMIT_DEFAULTS.totalStreamBufferBytes,
  };
}
