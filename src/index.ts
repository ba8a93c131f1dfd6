/**
 * toolgate as a library: what a program needs to run the gateway inside itself — load a config,
 * start the gateway on it, close it. The command line (`toolgate serve`) does the same.
 *
 * @example
 * import { loadConfig, startGateway } from 'toolgate';
 * const gateway = await startGateway(loadConfig('toolgate.yaml'));
 * console.log(`listening on ${gateway.url}`);
 * await gateway.close();
 */

export { ConfigError, type ConfigErrorCode, type ConfigProblem, type KeyPath } from './config/errors.js';
export type { ConfigEnv } from './config/interpolate.js';
export { loadConfig, parseConfig } from './config/load.js';
export type { GatewayConfig, UpstreamConfig } from './config/types.js';
export { type GatewayOptions, type RunningGateway, StartupError, startGateway, VERSION } from './gateway.js';
export { type Logger, type LogLevel, silentLogger, stderrLogger } from './log.js';
