import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * How to run one of the harness's own modules as a separate process: the compiled JS beside this
 * file when the harness runs from dist/, the TypeScript source under tsx otherwise.
 *
 * @example
 * const { command, args } = benchModule('fixture/stdio-server', ['10']);
 * spawn(command, args);
 */
export function benchModule(relative: string, extraArgs: string[] = [], execArgv: string[] = []): { command: string; args: string[] } {
  const js = fileURLToPath(new URL(`../${relative}.js`, import.meta.url));
  if (existsSync(js)) return { command: process.execPath, args: [...execArgv, js, ...extraArgs] };
  const ts = fileURLToPath(new URL(`../${relative}.ts`, import.meta.url));
  return { command: process.execPath, args: [...execArgv, '--import', 'tsx', ts, ...extraArgs] };
}
