/** The vocabulary of the gateway's metrics: label values are closed sets, so cardinality stays low. */

/** How one routed call ended. */
export type CallOutcome = 'ok' | 'error' | 'tool_error' | 'refused' | 'not_forwarded';

/** What policy said; `none` when the call ended before policy decided. */
export type CallVerdict = 'allow' | 'deny' | 'none';

/** The timed steps of a call (`authenticate` is timed at the front door, once per request). */
export type StageName = 'authenticate' | 'visible' | 'validate' | 'authorize' | 'audit_commit' | 'credential' | 'upstream';

export const STAGES: readonly StageName[] = ['authenticate', 'visible', 'validate', 'authorize', 'audit_commit', 'credential', 'upstream'];

/** Every metric name the gateway exports (the dashboard test checks its expressions against this). */
export const METRIC_NAMES = [
  'toolgate_calls_total',
  'mcp_server_operation_duration_seconds',
  'toolgate_stage_duration_seconds',
  'toolgate_sessions_open',
  'toolgate_streams_open',
  'toolgate_auth_failures_total',
  'toolgate_audit_commit_seconds',
  'toolgate_audit_queue_depth',
  'toolgate_audit_checkpoint_age_seconds',
  'toolgate_upstream_up',
  'toolgate_policy_reloads_total',
  'toolgate_policy_shadow_disagreements_total',
  'toolgate_limit_refusals_total',
  'toolgate_trace_context_dropped_total',
] as const;
