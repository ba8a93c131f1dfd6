import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Command to run a test fixture as its own process: compiled JS when built, TypeScript under tsx otherwise. */
export function fixtureCommand(name: string): { command: string; args: string[] } {
  const js = fileURLToPath(new URL(`../fixtures/${name}.js`, import.meta.url));
  if (existsSync(js)) return { command: process.execPath, args: [js] };
  const ts = fileURLToPath(new URL(`../fixtures/${name}.ts`, import.meta.url));
  return { command: process.execPath, args: ['--import', 'tsx', ts] };
}
