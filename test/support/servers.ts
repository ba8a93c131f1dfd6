/** Real upstream servers for tests: started on free loopback ports, always stopped by the caller. */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { freePort } from './free-port.js';

export { freePort };

const require = createRequire(import.meta.url);

export function everythingEntry(): string {
  return require.resolve('@modelcontextprotocol/server-everything/dist/index.js');
}

export function memoryEntry(): string {
  return require.resolve('@modelcontextprotocol/server-memory/dist/index.js');
}

export interface EverythingHttp {
  url: string;
  port: number;
  /** SIGTERM, then SIGKILL after 3 s. */
  close(): Promise<void>;
  /** SIGKILL at once: a crash, not a shutdown. */
  crash(): Promise<void>;
}

/** `@modelcontextprotocol/server-everything` over Streamable HTTP, as its own process (on `port`, else a free one). */
export async function startEverythingHttp(port?: number): Promise<EverythingHttp> {
  const listenOn = port ?? (await freePort());
  const child = spawn(process.execPath, [everythingEntry(), 'streamableHttp'], { env: { ...process.env, PORT: String(listenOn) }, stdio: ['ignore', 'ignore', 'pipe'] });
  await waitForLine(child, new RegExp(`listening on port ${listenOn}`, 'i'), 15_000);
  return {
    url: `http://127.0.0.1:${listenOn}/mcp`,
    port: listenOn,
    close: () => stop(child),
    crash: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
  };
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await once(child, 'exit');
  clearTimeout(timer);
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`server did not start within ${timeoutMs} ms; it said: ${seen}`)), timeoutMs);
    child.stderr!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before it started; it said: ${seen}`));
    });
  });
}
