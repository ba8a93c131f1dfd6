/**
 * A real Prometheus server (Debian's `prometheus` package) for one test: its own config, its own
 * TSDB in a temporary folder, on a free loopback port, scraping one target every second.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';

export const PROMETHEUS_BINARY = process.env.PROMETHEUS_BINARY ?? '/usr/bin/prometheus';

export interface PrometheusHandle {
  url: string;
  /** The value of an instant query that returns one sample; undefined when it returns none. */
  value(query: string): Promise<number | undefined>;
  /** Every sample of an instant query, with its labels. */
  query(query: string): Promise<Array<{ metric: Record<string, string>; value: number }>>;
  /** The scrape target's health as Prometheus sees it (up / down / unknown) and its last error. */
  target(): Promise<{ health: string; lastError: string } | undefined>;
  output(): string;
  stop(): Promise<void>;
}

export async function startPrometheus(target: { host: string; metricsPath: string; bearer: string }): Promise<PrometheusHandle> {
  if (!existsSync(PROMETHEUS_BINARY)) throw new Error(`no Prometheus at ${PROMETHEUS_BINARY}: apt-get install prometheus (.ci/run does), or set PROMETHEUS_BINARY`);
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: toolgate',
      `    metrics_path: ${target.metricsPath}`,
      '    authorization:',
      '      type: Bearer',
      `      credentials: ${target.bearer}`,
      '    static_configs:',
      `      - targets: ['${target.host}']`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let log = '';
  const child: ChildProcess = spawn(
    PROMETHEUS_BINARY,
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (b: Buffer) => (log += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => (await fetch(`${url}/-/ready`)).ok, { what: `prometheus ready at ${url} (output: ${log})`, timeoutMs: 20_000, intervalMs: 100 });
  } catch (err) {
    await stop();
    throw err;
  }
  const query = async (q: string): Promise<Array<{ metric: Record<string, string>; value: number }>> => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
    };
    if (body.status !== 'success') throw new Error(`prometheus query ${q} failed: ${body.error}`);
    return body.data!.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  };
  return {
    url,
    query,
    async value(q) {
      const r = await query(q);
      if (r.length > 1) throw new Error(`prometheus query ${q} returned ${r.length} samples, expected one`);
      return r[0]?.value;
    },
    async target() {
      const res = await fetch(`${url}/api/v1/targets`);
      const body = (await res.json()) as { data: { activeTargets: Array<{ health: string; lastError: string }> } };
      return body.data.activeTargets[0];
    },
    output: () => log,
    stop,
  };
}
