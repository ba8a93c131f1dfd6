/**
 * The Grafana dashboard in docs/grafana is well-formed, and every metric its expressions name is
 * one the gateway exports (read from the gateway's own registry, not from a list kept by hand).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { GatewayMetrics } from '../src/metrics/gateway-metrics.js';
import { METRIC_NAMES } from '../src/metrics/names.js';

const DASHBOARD = new URL('../docs/grafana/toolgate.json', import.meta.url);

interface Panel {
  title?: string;
  targets?: Array<{ expr?: string }>;
}

/** The metric names an expression uses (histogram series suffixes stripped); labels, `by (…)` and ranges are not names. */
function metricNames(expr: string): string[] {
  const withoutLabels = expr
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\b(by|without)\s*\([^)]*\)/g, '');
  const names = withoutLabels.match(/\b(?:toolgate|mcp)_[a-z0-9_]+/g) ?? [];
  return names.map((n) => n.replace(/_(bucket|count|sum)$/, ''));
}

test('METRIC_NAMES is exactly what the gateway registry exports', async () => {
  const exported = (await new GatewayMetrics().registry.getMetricsAsJSON()).map((m) => m.name).sort();
  assert.deepEqual(exported, [...METRIC_NAMES].sort());
});

test('docs/grafana/toolgate.json parses, and each panel queries only metrics the gateway exports', async () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { title: string; panels: Panel[] };
  assert.equal(dashboard.title, 'toolgate');
  assert.ok(dashboard.panels.length >= 10, `${dashboard.panels.length} panels`);
  const exported = new Set((await new GatewayMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
  const used = new Set<string>();
  for (const panel of dashboard.panels) {
    const exprs = (panel.targets ?? []).map((t) => t.expr).filter((e): e is string => typeof e === 'string' && e !== '');
    assert.ok(exprs.length > 0, `panel "${panel.title}" has an expression`);
    for (const expr of exprs) {
      const names = metricNames(expr);
      assert.ok(names.length > 0, `panel "${panel.title}": ${expr} names a metric`);
      for (const name of names) {
        assert.ok(exported.has(name), `panel "${panel.title}" queries ${name}, which the gateway does not export`);
        used.add(name);
      }
    }
  }
  // The dashboard shows every metric the gateway exports.
  assert.deepEqual([...used].sort(), [...exported].sort());
});

test('the name check catches a metric the gateway does not export', () => {
  assert.deepEqual(metricNames('sum(rate(toolgate_call_total{verdict="deny"}[5m]))'), ['toolgate_call_total']);
  assert.deepEqual(metricNames('histogram_quantile(0.99, sum by (le, mcp_method_name) (rate(toolgate_stage_duration_seconds_bucket{stage="x"}[$__rate_interval])))'), [
    'toolgate_stage_duration_seconds',
  ]);
});
