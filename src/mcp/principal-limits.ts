import type { LimitsConfig } from '../config/limits.js';
import type { Principal } from '../pipeline/stages.js';
import { errorResponse, type JsonRpcId, type JsonRpcResponse } from '../protocol/jsonrpc.js';

/**
 * What one principal holds open at once, and the caps on it (`limits:` in the config). A
 * principal is its binding key: one token's agent, user and issuer, whatever token refreshes it.
 * Counting is a Map lookup and an increment; an entry goes when its counts are back to zero, so
 * principals seen once do not accumulate.
 */

/** The names of the limits, as the config spells them: what a refusal names. */
export type LimitName = 'sessions_per_principal' | 'calls_per_principal' | 'streams_per_principal' | 'stream_buffer_bytes' | 'total_stream_buffer_bytes';

/** The JSON-RPC error code of every refusal by a limit (implementation-defined range; 429 in spirit). */
export const LIMIT_EXCEEDED = -32029;

/** A refusal by a limit, for the audit log and the gateway's log. */
export interface LimitRefusal {
  limit: LimitName;
  /** The configured cap. */
  max: number;
  principal: Principal;
  sessionId?: string;
  /** The JSON-RPC method refused (a call, initialize, the GET stream). */
  method?: string;
  reason: string;
}

/** One principal's open sessions, requests in flight and streams. */
export class PrincipalUsage {
  sessions = 0;
  calls = 0;
  streams = 0;
  constructor(readonly key: string) {}
}

/** Bytes held for clients that are not reading, across every stream of the gateway. */
export interface StreamBudget {
  used: number;
  readonly limit: number;
}

export class PrincipalLimits {
  readonly budget: StreamBudget;
  private readonly usage = new Map<string, PrincipalUsage>();

  constructor(
    readonly config: LimitsConfig,
    /** Every refusal, once (audit record and log line). */
    private readonly onRefusal: (refusal: LimitRefusal) => void = () => undefined,
  ) {
    this.budget = { used: 0, limit: config.totalStreamBufferBytes };
  }

  /** The usage of `key`, created on first use; give it back with `release` when done with it. */
  of(key: string): PrincipalUsage {
    let u = this.usage.get(key);
    if (u === undefined) {
      u = new PrincipalUsage(key);
      this.usage.set(key, u);
    }
    return u;
  }

  /** Forgets `u` when it holds nothing any more. */
  release(u: PrincipalUsage): void {
    if (u.sessions === 0 && u.calls === 0 && u.streams === 0 && this.usage.get(u.key) === u) this.usage.delete(u.key);
  }

  /** Takes a session slot; false (and recorded) past `sessions_per_principal`. */
  openSession(u: PrincipalUsage, principal: Principal): boolean {
    if (u.sessions >= this.config.sessionsPerPrincipal) {
      this.refuse('sessions_per_principal', this.config.sessionsPerPrincipal, principal, { method: 'initialize' }, `principal already holds ${u.sessions} open sessions`);
      this.release(u);
      return false;
    }
    u.sessions++;
    return true;
  }

  closeSession(u: PrincipalUsage): void {
    if (u.sessions > 0) u.sessions--;
    this.release(u);
  }

  /** Takes a call slot; false (and recorded) past `calls_per_principal`. */
  startCall(u: PrincipalUsage, principal: Principal, method: string, sessionId: string | undefined): boolean {
    if (u.calls >= this.config.callsPerPrincipal) {
      this.refuse('calls_per_principal', this.config.callsPerPrincipal, principal, { method, sessionId }, `principal already has ${u.calls} requests in flight`);
      this.release(u);
      return false;
    }
    u.calls++;
    return true;
  }

  endCall(u: PrincipalUsage): void {
    if (u.calls > 0) u.calls--;
    this.release(u);
  }

  /** Streams open across every principal (read when metrics are scraped, not per call). */
  openStreams(): number {
    let n = 0;
    for (const u of this.usage.values()) n += u.streams;
    return n;
  }

  /** Takes a stream slot; false (and recorded) past `streams_per_principal`. */
  openStream(u: PrincipalUsage, principal: Principal, method: string, sessionId: string | undefined): boolean {
    if (u.streams >= this.config.streamsPerPrincipal) {
      this.refuse('streams_per_principal', this.config.streamsPerPrincipal, principal, { method, sessionId }, `principal already holds ${u.streams} open streams`);
      this.release(u);
      return false;
    }
    u.streams++;
    return true;
  }

  closeStream(u: PrincipalUsage): void {
    if (u.streams > 0) u.streams--;
    this.release(u);
  }

  /** Records a refusal (audit record and log line, through `onRefusal`); the caller answers the client. */
  refuse(limit: LimitName, max: number, principal: Principal, where: { method?: string; sessionId?: string | undefined }, why: string): void {
    const reason = `${limit} (${max}) reached: ${why}`;
    this.onRefusal({ limit, max, principal, ...(where.sessionId ? { sessionId: where.sessionId } : {}), ...(where.method ? { method: where.method } : {}), reason });
  }
}

/** The JSON-RPC error a client gets for a refusal by `limit`. */
export function limitError(id: JsonRpcId | null, limit: LimitName, max: number, what: string): JsonRpcResponse {
  return errorResponse(id, LIMIT_EXCEEDED, `Too many: ${what} (limit ${limit} = ${max})`, { limit, max });
}
