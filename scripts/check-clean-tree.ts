/**
 * `node --import tsx scripts/check-clean-tree.ts -- COMMAND [ARGS…]` runs COMMAND (the test
 * suite) and fails when it wrote into the working copy: a new, changed or removed file that git
 * reports (untracked, ignored or modified), such as a `.toolgate/audit.db` left by a gateway
 * started without a state folder. node_modules, dist and .cache are build output and are not
 * looked at. Files already dirty before the run count too when the run touches them again.
 *
 * Exit: COMMAND's own status when it failed; else 1 when the tree changed, 0 when it did not;
 * 2 on bad usage.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NOT_LOOKED_AT = new Set(['node_modules', 'dist', '.cache']);

/** Path → "status size mtime" for every file git reports as not clean, directories walked. */
type Snapshot = Map<string, string>;

function snapshot(root: string): Snapshot {
  const status = execFileSync('git', ['status', '--porcelain=v1', '-z', '--ignored=matching', '--untracked-files=all'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const entries = status.split('\0');
  const files: Snapshot = new Map();
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    if (entry.length < 4) continue;
    const code = entry.slice(0, 2);
    const path = entry.slice(3);
    // A rename or copy is followed by its source path.
    if (code.includes('R') || code.includes('C')) i++;
    if (NOT_LOOKED_AT.has(path.split('/')[0]!)) continue;
    record(root, path.replace(/\/$/, ''), code, files);
  }
  return files;
}

function record(root: string, path: string, code: string, files: Snapshot): void {
  const full = join(root, path);
  if (!existsSync(full)) {
    files.set(path, `${code} gone`);
    return;
  }
  const stat = statSync(full);
  if (!stat.isDirectory()) {
    files.set(path, `${code} ${stat.size} ${stat.mtimeMs}`);
    return;
  }
  for (const name of readdirSync(full)) record(root, `${path}/${name}`, code, files);
}

function changes(before: Snapshot, after: Snapshot): string[] {
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort();
  return paths.flatMap((path) => {
    const was = before.get(path);
    const now = after.get(path);
    if (was === now) return [];
    if (was === undefined) return [`  written  ${path}`];
    if (now === undefined) return [`  cleaned  ${path}`];
    return [`  changed  ${path}`];
  });
}

function run(command: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(argv: string[]): Promise<number> {
  const command = argv[0] === '--' ? argv.slice(1) : argv;
  if (command.length === 0) {
    process.stderr.write('usage: check-clean-tree -- COMMAND [ARGS…]\n');
    return 2;
  }
  const root = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: dirname(fileURLToPath(import.meta.url)), encoding: 'utf8' }).trim();
  const before = snapshot(root);
  const status = await run(command[0]!, command.slice(1));
  const written = changes(before, snapshot(root));
  if (written.length > 0) {
    process.stderr.write(`check-clean-tree: the run wrote into the working copy (${root}); tests must use a temporary folder:\n${written.join('\n')}\n`);
  }
  if (status !== 0) return status;
  return written.length > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
