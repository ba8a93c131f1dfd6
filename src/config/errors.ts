/**
 * Why a config file was refused. Callers branch on `code`; `problems` holds every problem found
 * (not just the first) so a user can fix a file in one pass.
 */
import { ToolgateError } from '../errors.js';
export type ConfigErrorCode =
  /** The file does not exist. */
  | 'ERR_CONFIG_NOT_FOUND'
  /** The file exists but could not be read (a directory, no permission, …). */
  | 'ERR_CONFIG_READ'
  /** The file is not valid YAML. */
  | 'ERR_CONFIG_YAML'
  /** A `${VAR}` reference is unset or malformed. */
  | 'ERR_CONFIG_ENV'
  /** The YAML is well formed but does not describe a valid gateway. */
  | 'ERR_CONFIG_INVALID';

/** Where a value sits in the file: `['upstreams', 1, 'timeouts', 'request_ms']`. */
export type KeyPath = readonly (string | number)[];

export interface ConfigProblem {
  /** Key path of the offending value; empty for the whole file or a YAML syntax error. */
  path: KeyPath;
  /** What was expected (and, where useful, what was found). */
  message: string;
  /** 1-based position in the file, when known. */
  line?: number;
  column?: number;
}

export class ConfigError extends ToolgateError {
  declare readonly code: ConfigErrorCode;
  /** The config file as the caller named it. */
  readonly source: string;
  readonly problems: readonly ConfigProblem[];

  constructor(code: ConfigErrorCode, source: string, problems: readonly ConfigProblem[], options?: { cause?: unknown }) {
    super(code, problems.map((problem) => describeProblem(source, problem)).join('\n'), options);
    this.source = source;
    this.problems = problems;
  }
}

/**
 * One line per problem, in the `file:line:column:` form editors and terminals turn into links:
 * `config.yaml:14:20: upstreams[1].timeouts.request_ms: expected a positive integer, got "fast"`.
 */
export function describeProblem(source: string, problem: ConfigProblem): string {
  const where = problem.line === undefined ? source : `${source}:${problem.line}:${problem.column ?? 1}`;
  const key = formatKeyPath(problem.path);
  return key === '' ? `${where}: ${problem.message}` : `${where}: ${key}: ${problem.message}`;
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `['upstreams', 1, 'headers', 'X-Api-Key']` → `upstreams[1].headers.X-Api-Key`. */
export function formatKeyPath(path: KeyPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}
