/**
 * MCP logging levels (the syslog severities of RFC 5424), least to most severe. Every era
 * uses the same list: the 2025 eras set it per session with `logging/setLevel`, 2026-07-28
 * per request in the `_meta` envelope.
 */
export const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'] as const;
export type LoggingLevel = (typeof LOG_LEVELS)[number];

export function isLoggingLevel(v: unknown): v is LoggingLevel {
  return typeof v === 'string' && (LOG_LEVELS as readonly string[]).includes(v);
}
