import { parseArgs } from 'node:util';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import { type RunningGateway, StartupError, startGateway } from '../gateway.js';
import { asksForHelp } from './usage.js';

const USAGE = `usage: toolgate serve --config FILE
  --config, -c FILE   the gateway's YAML config (docs/config.md); runs until SIGINT or SIGTERM, then drains
`;

/** `toolgate serve --config FILE`: runs until SIGINT/SIGTERM, then drains and exits 0. */
export async function runServe(args: string[]): Promise<number> {
  if (asksForHelp(args)) {
    process.stdout.write(USAGE);
    return 0;
  }
  const options = { config: { type: 'string', short: 'c' } } as const;
  let values: ReturnType<typeof parseArgs<{ options: typeof options }>>['values'];
  try {
    ({ values } = parseArgs({ args, options, strict: true }));
  } catch (err) {
    process.stderr.write(`toolgate serve: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!values.config) {
    process.stderr.write('toolgate serve: --config FILE is required\n');
    return 2;
  }
  let gateway: RunningGateway;
  try {
    gateway = await startGateway(loadConfig(values.config));
  } catch (err) {
    if (err instanceof ConfigError || err instanceof StartupError) {
      process.stderr.write(`toolgate: ${err.message}\n`);
      return err instanceof ConfigError ? 2 : 1;
    }
    throw err;
  }
  await untilSignal();
  await gateway.close();
  return 0;
}

export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
