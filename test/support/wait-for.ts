import { inspect } from 'node:util';

export interface WaitOptions {
  /** What the test is waiting for, in words: the timeout error names it. */
  what: string;
  /** Give up after this long (default 5 s); a passing test waits only as long as the condition needs. */
  timeoutMs?: number;
  /** Pause between two checks (default 20 ms). */
  intervalMs?: number;
}

type Truthy<T> = Exclude<T, false | 0 | 0n | '' | null | undefined>;

/**
 * Checks `condition` (sync or async) until it gives a truthy value, and returns that value.
 * A check that throws counts as "not yet" (a server still starting refuses connections); a check
 * still pending at the deadline is not waited for. On timeout the error names `what` and the last
 * value or error seen, so a failing test says what never happened.
 */
export async function waitFor<T>(condition: () => T | Promise<T>, options: WaitOptions): Promise<Truthy<Awaited<T>>> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const intervalMs = options.intervalMs ?? 20;
  const deadline = Date.now() + timeoutMs;
  let last: { value: unknown } | { error: unknown } | undefined;
  let pending = false;
  for (;;) {
    const outcome = await settleWithin(condition, Math.max(deadline - Date.now(), 0));
    pending = outcome === 'pending';
    if (outcome !== 'pending') {
      last = outcome;
      if ('value' in outcome && outcome.value) return outcome.value as Truthy<Awaited<T>>;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, remaining)));
  }
  const seen = pending ? `the last check was still pending; before it, ${describe(last)}` : describe(last);
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what}; ${seen}`);
}

/** One check, raced against the time left: a check that hangs must not hang the test. */
async function settleWithin<T>(condition: () => T | Promise<T>, ms: number): Promise<{ value: Awaited<T> } | { error: unknown } | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const check = (async () => ({ value: await condition() }))().catch((error: unknown) => ({ error }));
  const late = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), ms)));
  try {
    return await Promise.race([check, late]);
  } finally {
    clearTimeout(timer);
  }
}

function describe(last: { value: unknown } | { error: unknown } | undefined): string {
  if (last === undefined) return 'no check finished';
  if ('error' in last) return `last error: ${last.error instanceof Error ? last.error.message : inspect(last.error)}`;
  return `last value: ${inspect(last.value, { depth: 4, breakLength: Infinity })}`;
}
