/**
 * What every `toolgate` command shares about being typed: how a mistake is reported, and how
 * a request for help is recognised.
 */

import { ToolgateError } from '../errors.js';

/** A mistake in what the user typed: exit code 2, the message says what to type instead. */
export class UsageError extends ToolgateError {
  constructor(message: string) {
    super('ERR_USAGE', message);
  }
}

/**
 * `--help` or `-h` among the arguments (before a `--`): the command prints its usage to stdout
 * and exits 0 instead of running, whatever else was typed.
 */
export function asksForHelp(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
}
