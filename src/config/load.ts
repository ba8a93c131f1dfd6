import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkUpstreams } from './checks.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { type ConfigEnv, interpolateEnv } from './interpolate.js';
import { problemsFromIssues } from './issues.js';
import { resolveConfig } from './resolve.js';
import { configFileSchema } from './schema.js';
import type { GatewayConfig } from './types.js';
import { readYaml, type YamlSource } from './yaml-source.js';

/**
 * Reads and validates a gateway config file. Relative paths in it are taken relative to the
 * file's folder.
 *
 * @throws ConfigError with code ERR_CONFIG_NOT_FOUND, ERR_CONFIG_READ, ERR_CONFIG_YAML,
 *   ERR_CONFIG_ENV or ERR_CONFIG_INVALID; its message has one line per problem.
 *
 * @example
 * import { loadConfig } from './config/load.js';
 * const config = loadConfig('toolgate.yaml');
 * console.log(config.listener.port, config.upstreams.map((u) => u.id));
 */
export function loadConfig(path: string, env: ConfigEnv = process.env): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new ConfigError('ERR_CONFIG_NOT_FOUND', path, [{ path: [], message: 'no such file' }], { cause: error });
    }
    const reason = code === 'EISDIR' ? 'is a directory, expected a YAML file' : `cannot be read (${code ?? String(error)})`;
    throw new ConfigError('ERR_CONFIG_READ', path, [{ path: [], message: reason }], { cause: error });
  }
  return parseConfig(text, path, env);
}

/**
 * Validates config text. `source` names the file in messages and anchors relative paths
 * (`cwd`, `./command`); it need not exist.
 *
 * Stages, each reporting all its problems before the next runs: YAML syntax → `${VAR}`
 * interpolation → schema and cross-key checks together → derived defaults.
 *
 * @example
 * const config = parseConfig('upstreams:\n  - id: crm\n    url: ${CRM_URL}\n', 'inline.yaml', { CRM_URL: 'http://127.0.0.1:7421/mcp' });
 * config.upstreams[0].prefix; // 'crm__'
 */
export function parseConfig(text: string, source: string, env: ConfigEnv = process.env): GatewayConfig {
  const yaml = readYaml(text, source);

  const interpolated = interpolateEnv(yaml.data, env);
  if (interpolated.problems.length > 0) {
    throw new ConfigError('ERR_CONFIG_ENV', source, located(interpolated.problems, yaml));
  }

  if (interpolated.value === null || interpolated.value === undefined) {
    throw new ConfigError('ERR_CONFIG_INVALID', source, [{ path: [], message: 'the file is empty; expected a mapping with at least upstreams' }]);
  }

  const parsed = configFileSchema.safeParse(interpolated.value, { reportInput: true });
  const problems = [...(parsed.success ? [] : problemsFromIssues(parsed.error.issues, configFileSchema, interpolated.fromEnv)), ...checkUpstreams(interpolated.value)];
  if (!parsed.success || problems.length > 0) {
    throw new ConfigError('ERR_CONFIG_INVALID', source, located(problems, yaml));
  }

  return resolveConfig(parsed.data, resolve(source));
}

/** Adds each problem's line and column, and orders them as they appear in the file. */
function located(problems: ConfigProblem[], yaml: YamlSource): ConfigProblem[] {
  return problems.map((problem) => ({ ...problem, ...yaml.positionOf(problem.path) })).sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}
