import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { classifyMessage, type JsonRpcId, type JsonRpcMessage } from '../../protocol/jsonrpc.js';
import { utf8Bytes } from './sse.js';
import { withCredentialMeta } from './stdio-meta.js';
import { type SendOptions, type UpstreamTransport, UpstreamTransportError } from './transport.js';

export interface StdioUpstreamOptions {
  command: string;
  args?: string[];
  /** Merged over a minimal inherited environment (PATH, HOME, TMPDIR, LANG, NODE_* but NODE_OPTIONS). */
  env?: Record<string, string>;
  cwd?: string;
  /** How long close() waits after ending stdin before SIGTERM, and after SIGTERM before SIGKILL. */
  closeGraceMs?: number;
  /** Longest stdout line (one message) accepted, in UTF-8 bytes; default 16 MiB. A longer one is discarded. */
  maxMessageBytes?: number;
}

const STDERR_LINES = 50;
const STDERR_LINE_CHARS = 2000;
const DEFAULT_GRACE_MS = 2000;
const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** After `exit`, how long to wait for stdout to drain (`close`) before reporting the exit anyway. */
const DRAIN_AFTER_EXIT_MS = 1000;

/**
 * A local MCP server as a child process: newline-delimited JSON-RPC on stdin/stdout.
 * stderr is kept as the last lines for error messages. Restarting is the owner's job.
 *
 * @example
 * const upstream = new StdioUpstreamTransport('memory', { command: 'npx', args: ['mcp-server-memory'] });
 * upstream.onmessage = (message) => console.log(message);
 * upstream.onclose = (reason) => console.log(reason, upstream.recentStderr());
 * await upstream.start();
 * await upstream.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
 * await upstream.close();
 */
export class StdioUpstreamTransport implements UpstreamTransport {
  onmessage?: (message: JsonRpcMessage, relatedTo?: JsonRpcId) => void;
  onclose?: (reason: string) => void;
  onerror?: (error: Error) => void;

  private readonly upstreamId: string;
  private readonly options: StdioUpstreamOptions;
  private readonly graceMs: number;
  private readonly maxMessageBytes: number;
  private child: ChildProcessWithoutNullStreams | undefined;
  private readonly stdoutPartial: string[] = [];
  private stdoutPartialBytes = 0;
  /** The stdout line being read went over maxMessageBytes: drop it up to its newline. */
  private skippingLine = false;
  private stderrPartial = '';
  private readonly stderrLines: string[] = [];
  /** Set once the process is gone; send() rejects from then on. */
  private exitReason: string | undefined;
  private exited: Promise<void> | undefined;
  private closing = false;

  constructor(upstreamId: string, options: StdioUpstreamOptions) {
    if (typeof options.command !== 'string' || options.command === '') {
      throw new UpstreamTransportError(upstreamId, 'ERR_UPSTREAM_CONFIG', 'command must be a non-empty string');
    }
    const grace = options.closeGraceMs ?? DEFAULT_GRACE_MS;
    if (!Number.isFinite(grace) || grace < 0) {
      throw new UpstreamTransportError(upstreamId, 'ERR_UPSTREAM_CONFIG', `closeGraceMs must be a non-negative number, got ${grace}`);
    }
    const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes <= 0) {
      throw new UpstreamTransportError(upstreamId, 'ERR_UPSTREAM_CONFIG', `maxMessageBytes must be a positive integer, got ${options.maxMessageBytes}`);
    }
    this.upstreamId = upstreamId;
    this.options = options;
    this.graceMs = grace;
    this.maxMessageBytes = maxMessageBytes;
  }

  /** The process id once started, for logs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last lines the process wrote to stderr, oldest first. */
  recentStderr(): string[] {
    return this.stderrPartial === '' ? this.stderrLines.slice() : [...this.stderrLines, this.stderrPartial];
  }

  start(): Promise<void> {
    if (this.child !== undefined) return Promise.reject(new UpstreamTransportError(this.upstreamId, 'ERR_UPSTREAM_STARTED', 'start() was already called'));
    const child = spawn(this.options.command, this.options.args ?? [], {
      cwd: this.options.cwd,
      env: { ...inheritedEnvironment(), ...this.options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.onStdout(chunk));
    child.stderr.on('data', (chunk: string) => this.onStderr(chunk));
    // EPIPE when the process died with a write pending: the exit is reported through onclose.
    child.stdin.on('error', () => undefined);
    this.exited = new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (): void => {
        clearTimeout(timer);
        resolve();
      };
      child.once('exit', (code, signal) => {
        this.exitReason = signal !== null ? `killed by ${signal}` : `exited with code ${code}`;
        timer = setTimeout(finish, DRAIN_AFTER_EXIT_MS);
      });
      child.once('close', finish);
    }).then(() => {
      if (this.closing) return;
      try {
        this.onclose?.(this.exitReason ?? 'exited');
      } catch (err) {
        this.onerror?.(err instanceof Error ? err : new Error(String(err)));
      }
    });
    return new Promise((resolve, reject) => {
      const onSpawn = (): void => {
        child.off('error', onError);
        child.on('error', (err) => this.onerror?.(this.error('ERR_UPSTREAM_PROCESS', err.message, err)));
        resolve();
      };
      const onError = (err: Error): void => {
        child.off('spawn', onSpawn);
        this.exitReason = `could not be started: ${err.message}`;
        this.closing = true; // a process that never ran has nothing to report through onclose
        this.exited = Promise.resolve();
        reject(this.error('ERR_UPSTREAM_SPAWN', `cannot start ${JSON.stringify(this.options.command)}: ${err.message}`, err));
      };
      child.once('spawn', onSpawn);
      child.once('error', onError);
    });
  }

  send(original: JsonRpcMessage, options?: SendOptions): Promise<void> {
    // stdio has no headers: a per-call credential (@toolgate/verify reads it there) and the trace
    // context travel in the request's _meta instead; nothing else of the HTTP headers applies here.
    const message = withCredentialMeta(original, options?.headers);
    const child = this.child;
    if (child === undefined) return Promise.reject(this.error('ERR_UPSTREAM_CLOSED', 'not started'));
    if (this.exitReason !== undefined || this.closing) {
      return Promise.reject(this.error('ERR_UPSTREAM_CLOSED', `the process ${this.exitReason ?? 'is closing'}`));
    }
    return new Promise((resolve, reject) => {
      child.stdin.write(`${JSON.stringify(message)}\n`, (err) => {
        if (err) reject(this.error('ERR_UPSTREAM_CLOSED', `could not write to the process: ${err.message}`, err));
        else resolve();
      });
    });
  }

  setProtocolVersion(): void {
    // stdio carries no per-message protocol header.
  }

  async openEventStream(): Promise<void> {
    // stdio has one stream, always open.
  }

  /** Ends stdin, then SIGTERM after the grace period, then SIGKILL after another. */
  async close(): Promise<void> {
    const child = this.child;
    if (child === undefined || this.exited === undefined) return;
    this.closing = true;
    if (this.exitReason !== undefined) return this.exited;
    child.stdin.end();
    if (await settlesWithin(this.exited, this.graceMs)) return;
    child.kill('SIGTERM');
    if (await settlesWithin(this.exited, this.graceMs)) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  /**
   * Splits stdout into lines. A line is held until its newline arrives, but never more than
   * maxMessageBytes of it: past that it is reported once and dropped up to its end, so a
   * runaway process cannot make the gateway buffer without bound. The call it answered (if
   * any) is not known without parsing it, so that call runs into its timeout.
   */
  private onStdout(chunk: string): void {
    let start = 0;
    let newline = chunk.indexOf('\n');
    while (newline !== -1) {
      let line = chunk.slice(start, newline);
      start = newline + 1;
      newline = chunk.indexOf('\n', start);
      if (this.skippingLine) {
        this.skippingLine = false;
        continue;
      }
      if (this.stdoutPartial.length > 0) {
        this.stdoutPartial.push(line);
        line = this.stdoutPartial.join('');
        this.stdoutPartial.length = 0;
        this.stdoutPartialBytes = 0;
      }
      if (utf8Bytes(line, this.maxMessageBytes) > this.maxMessageBytes) this.reportOversized();
      else this.onLine(line);
    }
    if (start < chunk.length && !this.skippingLine) {
      const rest = chunk.slice(start);
      this.stdoutPartialBytes += utf8Bytes(rest, this.maxMessageBytes);
      if (this.stdoutPartialBytes > this.maxMessageBytes) {
        this.stdoutPartial.length = 0;
        this.stdoutPartialBytes = 0;
        this.skippingLine = true;
        this.reportOversized();
      } else {
        this.stdoutPartial.push(rest);
      }
    }
  }

  private reportOversized(): void {
    this.onerror?.(this.error('ERR_UPSTREAM_MESSAGE_TOO_LARGE', `wrote a line larger than the limit of ${this.maxMessageBytes} bytes (maxMessageBytes); it was discarded`));
  }

  private onLine(raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.onerror?.(this.error('ERR_UPSTREAM_INVALID_MESSAGE', `wrote a line that is not JSON: ${JSON.stringify(line.slice(0, 80))}`));
      return;
    }
    const message = classifyMessage(value);
    if ('invalid' in message) {
      this.onerror?.(this.error('ERR_UPSTREAM_INVALID_MESSAGE', `wrote a line that is not a JSON-RPC message (${message.invalid})`));
      return;
    }
    try {
      this.onmessage?.(message, undefined);
    } catch (err) {
      this.onerror?.(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private onStderr(chunk: string): void {
    const parts = (this.stderrPartial + chunk).split('\n');
    this.stderrPartial = parts.pop()!.slice(-STDERR_LINE_CHARS);
    for (const part of parts) {
      this.stderrLines.push(part.endsWith('\r') ? part.slice(0, -1).slice(0, STDERR_LINE_CHARS) : part.slice(0, STDERR_LINE_CHARS));
    }
    if (this.stderrLines.length > STDERR_LINES) this.stderrLines.splice(0, this.stderrLines.length - STDERR_LINES);
  }

  private error(code: string, message: string, cause?: unknown): UpstreamTransportError {
    return new UpstreamTransportError(this.upstreamId, code, message, { cause });
  }
}

/**
 * What a local upstream inherits from the gateway: enough to find programs and a home, not
 * the gateway's secrets. NODE_OPTIONS is left out so the gateway's own flags (--inspect,
 * --import) do not leak into a child Node process.
 */
function inheritedEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (name === 'PATH' || name === 'HOME' || name === 'TMPDIR' || name === 'LANG' || (name.startsWith('NODE_') && name !== 'NODE_OPTIONS')) {
      env[name] = value;
    }
  }
  return env;
}

async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const result = await Promise.race([promise.then(() => true), timeout]);
  clearTimeout(timer);
  return result;
}
