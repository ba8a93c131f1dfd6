import { runPolicy } from '../../src/cli/policy.js';

/** `toolgate policy …` in this process, with what it printed to stdout and stderr. */
export async function policyCommand(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runPolicy(
    args,
    (s) => (out += s),
    (s) => (err += s),
  );
  return { code, out, err };
}
