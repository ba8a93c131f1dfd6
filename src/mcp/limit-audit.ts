import type { Logger } from '../log.js';
import type { AuditSink } from '../pipeline/stages.js';
import type { LimitRefusal } from './principal-limits.js';

/**
 * A refusal by a limit becomes one audit record (`kind: 'limit'`, `outcome: 'limit'`, the limit's
 * name, its cap and the reason) and one line in the gateway's log. Neither waits: the refusal is
 * answered at once, and a record that cannot be written is logged like the session records.
 */
export function limitRefusalRecorder(audit: AuditSink, logger: Logger): (refusal: LimitRefusal) => void {
  return (r) => {
    logger.log('warn', `refused by ${r.limit}: ${r.method ?? 'request'} from ${r.principal.bindingKey}: ${r.reason}`);
    void audit
      .record({
        kind: 'limit',
        at: new Date(),
        ...(r.sessionId ? { sessionId: r.sessionId } : {}),
        principal: r.principal,
        detail: { outcome: 'limit', limit: r.limit, max: r.max, ...(r.method ? { method: r.method } : {}), reason: r.reason },
      })
      .catch((err: Error) => logger.log('error', `audit: refusal by ${r.limit} not recorded: ${err.message}`));
  };
}
