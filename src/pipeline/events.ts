/**
 * The audit events of the request path, each built in one place from the downstream caller and
 * the request context, so the pipeline reads as stages rather than as record literals.
 */
import type { ArgumentProblem, AuditEvent, AuditRef, Decision, Downstream, Invocation, RequestContext } from './stages.js';

/** One summary per list call: how much of the catalog this caller was shown. */
export function listEvent(caller: Downstream, ctx: RequestContext, method: string, shown: number, hidden: number): AuditEvent {
  return { kind: 'list', at: new Date(), requestId: ctx.requestId, sessionId: caller.sessionId, principal: caller.principal, context: ctx, detail: { method, shown, hidden } };
}

/**
 * The fields every event about one routed call carries: who, which request (its context, so the
 * record holds the trace id and the instruction whether the call was allowed or refused), which
 * item, and the decision it follows from, when there is one.
 */
function callEvent(kind: AuditEvent['kind'], caller: Downstream, ctx: RequestContext, invocation: Invocation, decision?: AuditRef | void): AuditEvent {
  const event: AuditEvent = { kind, at: new Date(), requestId: ctx.requestId, sessionId: caller.sessionId, principal: caller.principal, invocation, context: ctx };
  if (decision) event.links = { decision };
  return event;
}

/** Server access refused: the caller lacks the upstream's baseline scopes. */
export function serverAccessEvent(caller: Downstream, ctx: RequestContext, invocation: Invocation, scopes: readonly string[], reason: string): AuditEvent {
  const event = callEvent('auth', caller, ctx, invocation);
  event.detail = { outcome: 'insufficient_scope', reason, scopes };
  return event;
}

/** A call to an item policy hides from the caller: the decision that hid it. */
export function hiddenEvent(caller: Downstream, ctx: RequestContext, invocation: Invocation, decision: Decision): AuditEvent {
  const event = callEvent('decision', caller, ctx, invocation);
  event.decision = decision;
  event.detail = { hidden: true };
  return event;
}

/** Arguments that do not fit the tool's inputSchema (the call goes no further). */
export function argumentsEvent(caller: Downstream, ctx: RequestContext, invocation: Invocation, problem: ArgumentProblem): AuditEvent {
  const event = callEvent('arguments', caller, ctx, invocation);
  event.detail = { outcome: 'invalid_arguments', field: problem.field, reason: problem.message };
  return event;
}

/** The steps of the request path an exception can stop a call in (the record names it). */
export type Stage = 'visible' | 'validate' | 'authorize' | 'credential' | 'forward';

/** Nothing decided: the verdict of a call refused before (or instead of) a policy decision. */
const REFUSED: Decision = Object.freeze({ verdict: 'deny', policies: Object.freeze([]) as unknown as string[], errors: Object.freeze([]) as unknown as string[] });

/**
 * A call the gateway refused on its own account — params no record can hold, an exception in a
 * stage: a denial whose reason says why, so that no refused call goes unrecorded.
 */
export function refusalEvent(caller: Downstream, ctx: RequestContext, invocation: Invocation, reason: string, stage?: Stage, decision?: AuditRef | void): AuditEvent {
  const event = callEvent('decision', caller, ctx, invocation, decision);
  event.decision = REFUSED;
  event.detail = { outcome: 'refused', reason, ...(stage ? { stage } : {}) };
  return event;
}

/** The policy decision on a call; durable before the call is forwarded. */
export function decisionEvent(caller: Downstream, ctx: RequestContext, invocation: Invocation, decision: Decision): AuditEvent {
  const event = callEvent('decision', caller, ctx, invocation);
  event.decision = decision;
  return event;
}

/** A server→client request (sampling, elicitation, roots) made during an allowed call. */
export function serverRequestEvent(caller: Downstream, ctx: RequestContext, invocation: Invocation, method: string, decision: AuditRef | void): AuditEvent {
  const event = callEvent('server.request', caller, ctx, invocation, decision);
  event.detail = { method };
  return event;
}

/** What came of a forwarded call, linked to the decision that allowed it. */
export function outcomeEvent(caller: Downstream, ctx: RequestContext, invocation: Invocation, outcome: NonNullable<AuditEvent['outcome']>, decision: AuditRef | void): AuditEvent {
  const event = callEvent('outcome', caller, ctx, invocation, decision);
  event.outcome = outcome;
  return event;
}
