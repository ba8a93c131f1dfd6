import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface GatewayProcess {
  url: string;
  pid: number;
  /** Every line the gateway wrote to stderr so far (its log). */
  lines: string[];
  /** The process's resident set size now, in bytes (VmRSS from /proc). */
  rss(): number;
  stop(): Promise<void>;
}

/**
 * `toolgate serve` as its own process (from source under tsx), with its state folder in `home`
 * and its config written there: for tests that measure the gateway's memory or watch its log
 * without the test's own sockets and buffers counting.
 */
export function serveGateway(home: string, yaml: string): Promise<GatewayProcess> {
  const config = join(home, 'toolgate.yaml');
  writeFileSync(config, yaml);
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--config', config], {
    env: { ...process.env, TOOLGATE_HOME: home, TOOLGATE_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  child.stderr!.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const m = lines.map((l) => /listening on (http:\/\/\S+)/.exec(l)).find(Boolean);
      if (!m) return;
      child.stderr!.off('data', check);
      resolve({
        url: m[1]!,
        pid: child.pid!,
        lines,
        rss: () => residentBytes(child.pid!),
        stop: async () => {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stderr!.on('data', check);
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${lines.join('\n')}${partial}`)));
  });
}

function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!kb) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb[1]) * 1024;
}
