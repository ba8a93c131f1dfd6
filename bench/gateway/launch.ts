import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchModule } from '../processes/bench-module.js';
import { type BenchChild, startChild } from '../processes/child.js';
import type { GatewayRequest, GatewaySpec, GatewayStats } from './process.js';

/** A toolgate process started by the harness. */
export interface GatewayProcess {
  url: string;
  pid: number;
  child: BenchChild;
  /** `collect`: after a full GC (only when launched with exposeGc). */
  stats(collect?: boolean): Promise<GatewayStats>;
  startProfile(): Promise<void>;
  /** Stops the profiler and writes the .cpuprofile to `path`. */
  stopProfile(path: string): Promise<void>;
  /** Asks the gateway to close and exit; kills it if it hangs. */
  stop(): Promise<void>;
}

/**
 * Starts toolgate in its own process with `spec.yaml` as its config and the named pipeline stages.
 *
 * @example
 * const gw = await launchGateway({ yaml: gatewayYaml([{ id: 'fast', url }]), stages: [] });
 * console.log(gw.url, (await gw.stats()).sessions);
 * await gw.stop();
 */
export async function launchGateway(spec: GatewaySpec, options: { exposeGc?: boolean; startTimeoutMs?: number; script?: string } = {}): Promise<GatewayProcess> {
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  // Its own state folder (the audit log is always on), never the repository's .toolgate.
  const ownHome = spec.home === undefined ? mkdtempSync(join(tmpdir(), 'toolgate-bench-home-')) : undefined;
  if (ownHome) spec = { ...spec, home: ownHome };
  const removeHome = (): void => {
    if (ownHome) rmSync(ownHome, { recursive: true, force: true });
  };
  const execArgv = options.exposeGc ? ['--expose-gc'] : [];
  // `script`: another build's gateway/process.js (A/B comparisons of two builds, ab.ts).
  const { command, args } = options.script
    ? { command: process.execPath, args: [...execArgv, options.script, JSON.stringify(spec)] }
    : benchModule('gateway/process', [JSON.stringify(spec)], execArgv);
  const child = startChild('toolgate', command, args, { ipc: true });
  child.process.stdout!.resume();
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`toolgate did not start within ${startTimeoutMs} ms; stderr: ${child.stderrTail()}`)), startTimeoutMs);
    child.process.on('message', (m: { type?: string; url?: string }) => {
      if (m.type === 'ready' && m.url) {
        clearTimeout(timer);
        resolve(m.url);
      }
    });
    child.process.once('exit', (code) => {
      clearTimeout(timer);
      removeHome();
      reject(new Error(`toolgate exited (${code}) before it was ready; stderr: ${child.stderrTail()}`));
    });
  });
  return {
    url,
    pid: child.pid,
    child,
    stats: async (collect) => (await ask<{ stats: GatewayStats }>(child, { type: 'stats', collect }, 'stats')).stats,
    startProfile: async () => void (await ask(child, { type: 'profile-start' }, 'profile-started')),
    stopProfile: async (path) => void (await ask(child, { type: 'profile-stop', path }, 'profile-written')),
    async stop() {
      const proc = child.process;
      if (proc.exitCode !== null || proc.signalCode !== null) return removeHome();
      const exited = once(proc, 'exit');
      proc.send({ type: 'stop' } satisfies GatewayRequest);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      removeHome();
    },
  };
}

function ask<T>(child: BenchChild, request: GatewayRequest, answer: string, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`toolgate did not answer ${request.type} within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m: { type?: string; request?: string }): void => {
      if (m.type === answer) done(undefined, m as T);
      else if (m.type === 'failed' && m.request === request.type) done(new Error(`toolgate could not ${request.type}; stderr: ${child.stderrTail()}`));
    };
    const done = (err?: Error, value?: T): void => {
      clearTimeout(timer);
      child.process.off('message', onMessage);
      if (err) reject(err);
      else resolve(value!);
    };
    child.process.on('message', onMessage);
    child.process.send(request);
  });
}
