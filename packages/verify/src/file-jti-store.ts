import { accessSync, closeSync, constants, fdatasync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, write, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ReplayStoreError } from './errors.js';
import type { JtiStore } from './jti-store.js';

export interface FileJtiStoreOptions {
  /** Flush each batch of new ids to disk (fdatasync) before the calls are accepted; default true. */
  fsync?: boolean;
  /** Clock in ms; for tests. */
  now?: () => number;
}

/** The file is rewritten with only the live ids once it holds this many lines and twice the live count. */
const COMPACT_AT_LEAST = 4096;

/** The stores open in this process, by absolute path: two verifiers naming one file share it. */
const open = new Map<string, FileJtiStore>();

/**
 * Used `jti`s in an append-only file, so that a restart does not forget them: a per-call token
 * captured before the server restarted is still refused until it expires. One line per id
 * (`<expires-at-ms> <jti>`), appended — and by default flushed to disk — before the call is
 * accepted; concurrent calls share one write. Lines past their expiry are dropped when the file
 * is compacted (on open, and when it has grown to twice the live ids). Ids are also kept in
 * memory, bounded like MemoryJtiStore's by the calls made within one token lifetime.
 *
 * One process only: a `<file>.lock` holding the owner's pid refuses a second process (two
 * processes would not see each other's ids). Several replicas, or a cluster of workers, need a
 * shared JtiStore (e.g. Redis `SET jti 1 NX PXAT exp`).
 */
export class FileJtiStore implements JtiStore {
  private readonly seen = new Map<string, number>();
  private readonly lockPath: string;
  private readonly fsync: boolean;
  private readonly now: () => number;
  private fd: number;
  private linesInFile = 0;
  private nextSweep = 0;
  private queue = '';
  private queued = 0;
  private waiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  private writing = false;
  private closed = false;

  /** The store for `path` in this process: opened (and locked) on first use, shared after. */
  static at(path: string, options: FileJtiStoreOptions = {}): FileJtiStore {
    const absolute = resolve(path);
    let store = open.get(absolute);
    if (store === undefined) {
      store = new FileJtiStore(absolute, options);
      open.set(absolute, store);
    }
    return store;
  }

  private constructor(
    readonly path: string,
    options: FileJtiStoreOptions,
  ) {
    this.fsync = options.fsync ?? true;
    this.now = options.now ?? Date.now;
    this.lockPath = `${path}.lock`;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    takeLock(this.lockPath);
    try {
      this.load();
      this.fd = this.rewrite();
    } catch (err) {
      releaseLock(this.lockPath);
      throw err;
    }
  }

  useOnce(jti: string, expiresAt: number): boolean | Promise<boolean> {
    if (this.closed) throw new ReplayStoreError(`the replay file ${this.path} is closed`);
    const now = this.now();
    if (now >= this.nextSweep) this.sweep(now);
    const until = this.seen.get(jti);
    if (until !== undefined && until > now) return false;
    // Marked in memory at once, so the same id arriving while the line is written is refused.
    this.seen.set(jti, expiresAt);
    this.queue += `${expiresAt} ${encodeURIComponent(jti)}\n`;
    this.queued += 1;
    return new Promise<boolean>((resolve, reject) => {
      this.waiters.push({
        resolve: () => resolve(true),
        reject: (err) => {
          // Not on disk: refuse the call rather than accept one a restart would forget.
          this.seen.delete(jti);
          reject(new ReplayStoreError(`could not record token ${jti} in the replay file ${this.path}: ${err.message}`, { cause: err }));
        },
      });
      if (!this.writing) void this.drain();
    });
  }

  get size(): number {
    return this.seen.size;
  }

  /** Waits for pending writes, then closes the file and releases the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.writing) await new Promise((r) => setImmediate(r));
    this.closed = true;
    open.delete(this.path);
    closeSync(this.fd);
    releaseLock(this.lockPath);
  }

  /** Writes what is queued as one append (and one flush), resolving every call it holds. */
  private async drain(): Promise<void> {
    this.writing = true;
    while (this.queued > 0) {
      const text = this.queue;
      const count = this.queued;
      const waiters = this.waiters;
      this.queue = '';
      this.queued = 0;
      this.waiters = [];
      try {
        await append(this.fd, text, this.fsync);
        this.linesInFile += count;
        for (const w of waiters) w.resolve();
      } catch (err) {
        for (const w of waiters) w.reject(err as Error);
      }
      if (this.linesInFile >= COMPACT_AT_LEAST && this.linesInFile >= 2 * this.seen.size) {
        try {
          this.sweep(this.now());
          const old = this.fd;
          this.fd = this.rewrite();
          closeSync(old);
        } catch {
          // The append-only file stays as it is; compaction is tried again after the next write.
        }
      }
    }
    this.writing = false;
  }

  /** Reads the ids still live; a torn last line (a crash mid-write) is skipped. */
  private load(): void {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const now = this.now();
    // Only complete lines: whatever follows the last newline is a write cut short.
    for (const line of text.slice(0, text.lastIndexOf('\n') + 1).split('\n')) {
      const space = line.indexOf(' ');
      if (space <= 0) continue;
      const expiresAt = Number(line.slice(0, space));
      if (!Number.isFinite(expiresAt) || expiresAt <= now) continue;
      let jti: string;
      try {
        jti = decodeURIComponent(line.slice(space + 1));
      } catch {
        continue;
      }
      this.seen.set(jti, Math.max(expiresAt, this.seen.get(jti) ?? 0));
    }
  }

  /** Replaces the file with the live ids (temporary file, flushed, renamed over); returns the new append descriptor. */
  private rewrite(): number {
    let text = '';
    for (const [jti, until] of this.seen) text += `${until} ${encodeURIComponent(jti)}\n`;
    const temporary = `${this.path}.tmp`;
    writeFileSync(temporary, text, { mode: 0o600 });
    if (this.fsync) syncFile(temporary);
    renameSync(temporary, this.path);
    if (this.fsync) syncFile(dirname(this.path));
    this.linesInFile = this.seen.size;
    return openSync(this.path, 'a', 0o600);
  }

  private sweep(now: number): void {
    for (const [jti, until] of this.seen) if (until <= now) this.seen.delete(jti);
    this.nextSweep = now + 1000;
  }
}

/**
 * The verifier's default: the folder is made (and must be writable) at once, so a bad location
 * fails at start-up; the file is opened and locked on the first call that needs it, so a process
 * that only lists tools (a report reading the catalog beside a running server) holds no lock.
 * While the file cannot be opened (another live process holds it), calls are refused
 * (ERR_REPLAY_STORE) and opening is tried again on the next one.
 */
export class FileJtiStoreOnFirstUse implements JtiStore {
  private store: FileJtiStore | undefined;
  readonly path: string;

  constructor(
    path: string,
    private readonly options: FileJtiStoreOptions = {},
  ) {
    this.path = resolve(path);
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    accessSync(dirname(this.path), constants.W_OK);
  }

  useOnce(jti: string, expiresAt: number): boolean | Promise<boolean> {
    if (this.store === undefined) {
      try {
        this.store = FileJtiStore.at(this.path, this.options);
      } catch (err) {
        throw new ReplayStoreError(`the replay file ${this.path} cannot be used: ${(err as Error).message}`, { cause: err });
      }
    }
    return this.store.useOnce(jti, expiresAt);
  }
}

function append(fd: number, text: string, flush: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    write(fd, text, null, 'utf8', (err) => {
      if (err) return reject(err);
      if (!flush) return resolve();
      fdatasync(fd, (syncErr) => (syncErr ? reject(syncErr) : resolve()));
    });
  });
}

function syncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const locks = new Set<string>();
let releaseOnExit = false;

/**
 * `<file>.lock` holds the owner's pid. A lock whose process is gone (or is this very process,
 * e.g. pid 1 again after a container restart) is stale and taken over.
 */
function takeLock(lockPath: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockPath, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      locks.add(lockPath);
      if (!releaseOnExit) {
        releaseOnExit = true;
        process.on('exit', releaseAll);
      }
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
      throw new Error(
        `the replay file is in use by process ${owner} (${lockPath}); each process needs its own file, and several replicas a shared JtiStore (delete the lock file if that process is not a verifier)`,
      );
    }
    unlinkSync(lockPath);
  }
  throw new Error(`could not take the lock ${lockPath}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function releaseLock(lockPath: string): void {
  if (!locks.delete(lockPath)) return;
  try {
    unlinkSync(lockPath);
  } catch {
    // Already gone: nothing to release.
  }
}

function releaseAll(): void {
  for (const lockPath of [...locks]) releaseLock(lockPath);
}
