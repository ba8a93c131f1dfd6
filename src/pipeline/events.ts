/**
 * The audit events of the request path, each built in one place from the downstream caller and
 * the request context, so the pipeline reads as stages rather than as record literals.
 */
import type { ArgumentProblem, AuditEvent, AuditRef, Decision, Downstream, Invocation, RequestContext } from './stages.js';

/** One summary per list call: how much of the catalog this caller was shown. */
export function listEvent(caller: Downstream, ctx: RequestContext, method: string, shown: number, hidden: number): AuditEvent {
  return { kind: 'list', at: new Date(), requestId: ctx.requestId, sessionId: caller.sessionId, principal: caller.principal, context: ctx, detail: { method, shown, hidden } };
}

/** Server access refused: the caller lacks the upstream's baseline scopes. */
export function serverAccessEvent(caller: Downstream, ctx: RequestContext, invocation: Invocation, scopes: readonly string[], reason: string): AuditEvent {
  return {
    kind: 'auth',
    at: new Date(),
    requestId: ctx.requestId,
    sessionId: caller.sessionId,
    principal: caller.principal,
    invocation,
    detail: { outcome: 'insufficient_scope', reason, scopes },
  };
}

/** A call to an item policy hides from the caller: the decision that hid it. */
export function hiddenEvent(caller: Downstream, ctx: RequestContext, invocation: Invocation, decision: Decision): AuditEvent {
  return { kind: 'decision', at: new Date(), requestId: ctx.requestId, sessionId: caller.sessionId, principal: caller.principal, invocation, decision, detail: { hidden: true } };
}

/** Arguments that do not fit the tool's inputSchema (the call goes no further). */
export function argumentsEvent(caller: Downstream, ctx: RequestContext, invocation: Invocation, problem: ArgumentProblem): AuditEvent {
  return {
    kind: 'arguments',
    at: new Date(),
    requestId: ctx.requestId,
    sessionId: caller.sessionId,
    principal: caller.principal,
    invocation,
    detail: { outcome: 'invalid_arguments', field: problem.field, reason: problem.message },
  };
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
  const event: AuditEvent = {
    kind: 'decision',
    at: new Date(),
    requestId: ctx.requestId,
    sessionId: caller.sessionId,
    principal: caller.principal,
    invocation,
    decision: REFUSED,
    context: ctx,
    detail: { outcome: 'refused', reason, ...(stage ? { stage } : {}) },
  };
  if (decision) event.links = { decision };
  return event;
}

/** The policy decision on a call; durable before the call is forwarded. */
export function decisionEvent(caller: Downstream, ctx: RequestContext, invocation: Invocation, decision: Decision): AuditEvent {
  return { kind: 'decision', at: new Date(), requestId: ctx.requestId, sessionId: caller.sessionId, principal: caller.principal, invocation, decision, context: ctx };
}

/** A server→client request (sampling, elicitation, roots) made during an allowed call. */
export function serverRequestEvent(caller: Downstream, ctx: RequestContext, invocation: Invocation, method: string, decision: AuditRef | void): AuditEvent {
  const event: AuditEvent = {
    kind: 'server.request',
    at: new Date(),
    requestId: ctx.requestId,
    sessionId: caller.sessionId,
    principal: caller.principal,
    invocation,
    context: ctx,
    detail: { method },
  };
  if (decision) event.links = { decision };
  return event;
}

/** What came of a forwarded call, linked to the decision that allowed it. */
export function outcomeEvent(caller: Downstream, ctx: RequestContext, invocation: Invocation, outcome: NonNullable<AuditEvent['outcome']>, decision: AuditRef | void): AuditEvent {
  const event: AuditEvent = {
    kind: 'outcome',
    at: new Date(),
    requestId: ctx.requestId,
    sessionId: caller.sessionId,
    principal: caller.principal,
    invocation,
    context: ctx,
    outcome,
  };
  if (decision) event.links = { decision };
  return event;
}
