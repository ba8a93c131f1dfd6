import { execFileSync } from 'node:child_process';

/** Which code a run measured: the commit, and any uncommitted changes under src/ (null outside git). */
export function sourceRevision(root: string): { commit: string; uncommitted_src: string[] } | null {
  try {
    const git = (...args: string[]): string => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = git('rev-parse', 'HEAD');
    const status = git('status', '--porcelain', '--', 'src');
    return { commit, uncommitted_src: status === '' ? [] : status.split('\n').map((l) => l.slice(3)) };
  } catch {
    return null;
  }
}
