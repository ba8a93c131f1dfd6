/**
 * What the always-on metrics cost per call, two ways:
 *
 *   node --import tsx bench/micro/metrics.ts [--calls 4000] [--rounds 4] [--concurrency 8]
 *
 * 1. The metrics work alone: one call's probe (created, six laps, verdict and outcome, ended into
 *    the prom-client counters and histograms), timed with `measureSync`.
 * 2. A gateway in this process in front of the example CRM (in-memory audit, every call allowed),
 *    `metrics: { enabled: true }` against `false`, rounds alternating: calls/s and CPU per call
 *    of the whole process (the CRM server included, so the percentage is a lower bound of the
 *    gateway's own share; the figure from 1. against the gateway's CPU per call is the other view).
 */

import { startCrmServer } from '../../examples/crm/server.js';
import { parseConfig } from '../../src/config/load.js';
import { startGateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/log.js';
import { CallProbe } from '../../src/metrics/call-probe.js';
import { GatewayMetrics } from '../../src/metrics/gateway-metrics.js';
import { MemoryAuditSink } from '../../src/pipeline/pass-through.js';
import { measureSync } from './measure.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}
const CALLS = arg('calls', 4000);
const ROUNDS = arg('rounds', 4);
const CONCURRENCY = arg('concurrency', 8);
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

function probeAlone(): void {
  const metrics = new GatewayMetrics();
  const figure = measureSync(() => {
    const p = new CallProbe(metrics, 'tools/call', 'crm', 'search_contacts');
    p.lap('visible');
    p.lap('validate');
    p.lap('authorize');
    p.verdict = 'allow';
    p.lap('audit_commit');
    p.lap('credential');
    p.lap('upstream');
    p.outcome = 'ok';
    p.end();
    return p;
  }, 1500);
  console.log(`metrics work per call (probe, 6 laps, end): median ${figure.ns_per_op} ns, p99 ${figure.p99_ns_per_op} ns`);
}

async function round(crmUrl: string, enabled: boolean): Promise<{ callsPerSecond: number; cpuUsPerCall: number }> {
  const config = parseConfig(`listener:\n  port: 0\nmetrics:\n  enabled: ${enabled}\nupstreams:\n  - id: crm\n    url: ${crmUrl}\n`, 'bench config');
  const gateway = await startGateway(config, { logger: silentLogger, audit: new MemoryAuditSink() });
  try {
    const post = async (body: unknown, sid?: string): Promise<Response> =>
      fetch(gateway.url, { method: 'POST', headers: { ...HEADERS, ...(sid ? { 'mcp-session-id': sid } : {}) }, body: JSON.stringify(body) });
    const init = await post({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1' } },
    });
    await init.text();
    const sid = init.headers.get('mcp-session-id')!;
    await (await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, sid)).text();
    const call = async (id: number): Promise<void> => {
      const r = await post({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'crm__search_contacts', arguments: { tenant: 'acme', query: 'a' } } }, sid);
      const text = await r.text();
      if (!text.includes('"result"')) throw new Error(`call failed: ${text.slice(0, 200)}`);
    };
    for (let i = 0; i < 200; i++) await call(i); // warm-up
    let next = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < CALLS) await call(1000 + next++);
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { callsPerSecond: CALLS / seconds, cpuUsPerCall: (cpu.user + cpu.system) / CALLS };
  } finally {
    await gateway.close();
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

probeAlone();
const crm = await startCrmServer({ port: 0 });
const figures: Record<'on' | 'off', Array<{ callsPerSecond: number; cpuUsPerCall: number }>> = { on: [], off: [] };
for (let r = 0; r < ROUNDS; r++) {
  for (const enabled of r % 2 === 0 ? [true, false] : [false, true]) figures[enabled ? 'on' : 'off'].push(await round(crm.url, enabled));
}
await crm.close();
const on = { rate: median(figures.on.map((f) => f.callsPerSecond)), cpu: median(figures.on.map((f) => f.cpuUsPerCall)) };
const off = { rate: median(figures.off.map((f) => f.callsPerSecond)), cpu: median(figures.off.map((f) => f.cpuUsPerCall)) };
console.log(`gateway + CRM in one process, ${CALLS} calls x ${ROUNDS} rounds, concurrency ${CONCURRENCY} (medians):`);
console.log(`  metrics on : ${on.rate.toFixed(0)} calls/s, ${on.cpu.toFixed(1)} us CPU per call`);
console.log(`  metrics off: ${off.rate.toFixed(0)} calls/s, ${off.cpu.toFixed(1)} us CPU per call`);
console.log(`  CPU per call with metrics: ${(((on.cpu - off.cpu) / off.cpu) * 100).toFixed(1)} %`);
