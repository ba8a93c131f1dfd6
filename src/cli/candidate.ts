/**
 * The command-line side of the candidate-set workflow, called by `toolgate policy`:
 *   suggest  --config FILE [--since T] [--until T] [--out DIR] [--force] [--at T]
 *   shadow   --config FILE [--since T] [--until T] [--json]
 *   promote  --config FILE [--since T] [--until T] [--force]
 * Exit codes: 0 done, 1 refused or failed (the message says which calls or which file),
 * 2 usage (a bad option, no policy.shadow, a non-empty --out).
 */
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import { compareShadow, renderComparison } from '../least-privilege/disagreements.js';
import { observeCalls, type TimeRange } from '../least-privilege/observed.js';
import { NoShadowSet, PromotionRefused, promoteShadow, renderPromotion } from '../least-privilege/promote.js';
import { NothingObserved } from '../least-privilege/suggest.js';
import { OutDirNotEmpty, suggestPolicies, summary } from '../least-privilege/suggest-command.js';
import { PolicyLoadError } from '../policy/errors.js';
import { NoPolicySection } from '../policy/workbench.js';
import { timeOption, withAuditStore } from './audit-store.js';
import { UsageError } from './usage.js';

type Out = (s: string) => void;

export interface CandidateOptions {
  config?: string;
  since?: string;
  until?: string;
  out?: string;
  force?: boolean;
  json?: boolean;
  at?: string;
}

export const DEFAULT_SUGGEST_OUT = 'suggested-policies';

export async function runCandidate(sub: 'suggest' | 'shadow' | 'promote', o: CandidateOptions, out: Out, err: Out): Promise<number> {
  try {
    if (!o.config) throw new UsageError(`policy ${sub} needs --config FILE`);
    const range = rangeOf(o);
    if (o.at !== undefined) timeOption(o.at, '--at');
    const config = loadConfig(o.config);
    const observation = await withAuditStore({ config: o.config }, (store) => observeCalls(store, range));
    if (sub === 'suggest') {
      const s = await suggestPolicies(config, observation, {
        out: o.out ?? DEFAULT_SUGGEST_OUT,
        ...(o.force ? { force: true } : {}),
        ...(o.at ? { at: new Date(o.at).toISOString() } : {}),
      });
      out(summary(s));
      return 0;
    }
    if (sub === 'shadow') {
      const comparison = compareShadow(observation.calls);
      if (comparison.evaluated === 0) {
        if (!config.policy?.shadowFiles.length)
          throw new UsageError(`${o.config} has no policy.shadow and no decision in the range carries a shadow verdict; configure policy.shadow: <files> and run traffic first`);
        err(`no decision in the range was evaluated by a shadow set (policy.shadow is configured: has the gateway run with it since?)\n`);
        return 1;
      }
      out(o.json ? `${JSON.stringify(comparison, null, 2)}\n` : renderComparison(comparison));
      return 0;
    }
    const p = await promoteShadow(config, observation.calls, o.force ? { force: true } : {});
    out(renderPromotion(p));
    return 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError || e instanceof NoPolicySection || e instanceof OutDirNotEmpty || e instanceof NoShadowSet) {
      err(`toolgate policy ${sub}: ${e.message}\n`);
      return 2;
    }
    if (e instanceof PromotionRefused || e instanceof NothingObserved) {
      const range = e instanceof NothingObserved ? ` (${o.since ? `since ${o.since}` : 'from the start'}${o.until ? ` until ${o.until}` : ''}, audit log of ${o.config})` : '';
      err(`toolgate policy ${sub}: ${e.message}${range}\n`);
      return 1;
    }
    if (e instanceof PolicyLoadError) {
      err(`policy refused: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

function rangeOf(o: CandidateOptions): TimeRange {
  const range: TimeRange = {};
  if (o.since !== undefined) range.from = timeOption(o.since, '--since');
  if (o.until !== undefined) range.to = timeOption(o.until, '--until');
  if (range.from && range.to && range.from >= range.to) throw new UsageError(`--since ${o.since} is not before --until ${o.until}: the range is empty`);
  return range;
}
