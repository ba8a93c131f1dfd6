/**
 * The `metrics:` section of the config file. Metrics are kept unless `enabled: false`; they are
 * served at `GET /metrics` only when an `admin:` token is configured, and only to a request that
 * presents it (they name upstreams and tools). docs/config.md "metrics" describes the keys.
 */
import { z } from 'zod';

export interface MetricsSettings {
  /** Default true: counters and histograms are kept, and served to the admin at /metrics. */
  enabled: boolean;
}

export const METRICS_DEFAULTS: MetricsSettings = { enabled: true };

export const metricsSection = z.strictObject(
  {
    enabled: z.boolean({ error: 'expected true or false' }).default(true),
  },
  { error: 'expected a mapping with enabled' },
);

export function resolveMetrics(section: z.output<typeof metricsSection>): MetricsSettings {
  return { enabled: section.enabled };
}
