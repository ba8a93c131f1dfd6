import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { once } from 'node:events';

/** A process the harness started: its id, the last lines it wrote to stderr, and how to stop it. */
export interface BenchChild {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  stderrTail(): string;
  stop(): Promise<void>;
}

const TAIL_CHARS = 4000;

/** Starts a process with stdout and stderr piped; keeps the tail of stderr for error messages. */
export function startChild(name: string, command: string, args: string[], options: { env?: NodeJS.ProcessEnv; ipc?: boolean; cwd?: string } = {}): BenchChild {
  const stdio: StdioOptions = options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'];
  const child = spawn(command, args, { env: options.env ?? process.env, stdio, cwd: options.cwd });
  let tail = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-TAIL_CHARS);
  });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  return {
    name,
    process: child,
    pid: child.pid,
    stderrTail: () => tail,
    stop: () => stopProcess(child),
  };
}

/** Resolves with the first output matching `pattern` (stdout unless told); rejects on exit or timeout, quoting stderr. */
export function waitForLine(child: BenchChild, pattern: RegExp, timeoutMs: number, from: 'stdout' | 'stderr' = 'stdout'): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const stdout = from === 'stdout' ? child.process.stdout! : child.process.stderr!;
    const onData = (chunk: Buffer | string): void => {
      seen += chunk.toString();
      const match = seen.match(pattern);
      if (match) {
        done();
        resolve(match);
      }
    };
    const onExit = (code: number | null): void => {
      done();
      reject(new Error(`${child.name} exited (${code}) before it was ready; stderr: ${child.stderrTail()}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${child.name} was not ready within ${timeoutMs} ms; stdout: ${seen.slice(-500)} stderr: ${child.stderrTail()}`));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      stdout.off('data', onData);
      child.process.off('exit', onExit);
      // Keep draining so a chatty child never blocks on a full pipe.
      stdout.resume();
    };
    stdout.on('data', onData);
    child.process.once('exit', onExit);
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
