import { type ConfigProblem, formatKeyPath } from './errors.js';

const HTTP_ONLY = ['headers'] as const;
const STDIO_ONLY = ['args', 'env', 'cwd'] as const;
const CHOOSE = 'give url for an HTTP upstream or command for a stdio upstream';

/**
 * Rules that span several keys of the upstream list: ids are unique, and each upstream is
 * either HTTP (url, headers) or stdio (command, args, env, cwd). They run on the unvalidated
 * tree, next to the schema rather than after it, so one pass reports every problem.
 * Values of the wrong type are left to the schema; an empty value counts as left out.
 */
export function checkUpstreams(tree: unknown): ConfigProblem[] {
  if (!isMapping(tree) || !Array.isArray(tree.upstreams)) return [];
  const problems: ConfigProblem[] = [];
  const firstUse = new Map<string, number>();

  tree.upstreams.forEach((upstream: unknown, index: number) => {
    if (!isMapping(upstream)) return;
    const at = ['upstreams', index] as const;

    if (typeof upstream.id === 'string') {
      const earlier = firstUse.get(upstream.id);
      if (earlier === undefined) firstUse.set(upstream.id, index);
      else {
        const other = formatKeyPath(['upstreams', earlier]);
        problems.push({ path: [...at, 'id'], message: `duplicate id "${upstream.id}", already used by ${other}` });
      }
    }

    const hasUrl = isSet(upstream.url);
    const hasCommand = isSet(upstream.command);
    if (hasUrl && hasCommand) problems.push({ path: at, message: `has both url and command; ${CHOOSE}, not both` });
    if (!hasUrl && !hasCommand) problems.push({ path: at, message: `missing url or command; ${CHOOSE}` });
    if (hasUrl !== hasCommand) {
      const misplaced = hasUrl ? STDIO_ONLY : HTTP_ONLY;
      const reason = hasUrl ? 'only for stdio upstreams (command), and this one has url' : 'only for HTTP upstreams (url), and this one has command';
      for (const key of misplaced) {
        if (isSet(upstream[key])) problems.push({ path: [...at, key], message: reason });
      }
    }
  });
  return problems;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}
