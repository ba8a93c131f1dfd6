/**
 * How long and how often each part of a run measures. The full plan is sized to stay well under
 * ten minutes on the 2-core reference machine; BENCH_QUICK=1 gives a run of a minute or two for
 * checking the harness itself (its figures are noisier: one round, short windows).
 */
export interface BenchPlan {
  mode: 'full' | 'quick';
  concurrencies: number[];
  rounds: number;
  /** Per scenario once at start: gets the JIT and connection pools warm. */
  initialWarmupMs: number;
  /** Per measurement, after opening its sessions and before recording. */
  warmupMs: number;
  durationMs: number;
  /** Include server-everything (SDK v1) as a realistic upstream. */
  everything: boolean;
  scaling: {
    upstreams: number[];
    toolsPerUpstream: number[];
    sessions: number[];
    /** The session count whose calls are kept up for `sustainMs`, so per-call memory settles. */
    sustainSessions: number;
    sustainMs: number;
    concurrency: number;
    warmupMs: number;
    durationMs: number;
  };
  microMs: number;
  profileMs: number;
  /** Before each measurement, wait for other processes to quiet down (the machine is shared). */
  quiet: { thresholdCores: number; perWaitMs: number; budgetMs: number; probeMs: number };
}

export function benchPlan(env: NodeJS.ProcessEnv = process.env): BenchPlan {
  const quick = env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
  const scalingShape = { upstreams: [1, 10, 50], toolsPerUpstream: [10, 200], sessions: [10, 1000], sustainSessions: 1000, concurrency: 16 };
  const full: BenchPlan = {
    mode: 'full',
    concurrencies: [1, 16, 64],
    // Many short rounds rather than a few long ones: the machine is shared, and a median over
    // more interleaved rounds shrugs off a burst of someone else's work.
    rounds: 5,
    initialWarmupMs: 3000,
    warmupMs: 700,
    durationMs: 2000,
    everything: true,
    // 65 s of sustained calls: longer than anything the gateway keeps per request (60 s today).
    scaling: { ...scalingShape, warmupMs: 2000, durationMs: 3000, sustainMs: 65_000 },
    microMs: 1000,
    profileMs: 5000,
    quiet: { thresholdCores: 0.3, perWaitMs: 10_000, budgetMs: 90_000, probeMs: 300 },
  };
  if (!quick) return full;
  // One short round of everything: checks the harness; its figures are rough.
  return {
    ...full,
    mode: 'quick',
    rounds: 1,
    initialWarmupMs: 1000,
    warmupMs: 200,
    durationMs: 1000,
    scaling: { ...scalingShape, warmupMs: 200, durationMs: 700, sustainMs: 5000 },
    microMs: 150,
    profileMs: 1500,
    quiet: { ...full.quiet, perWaitMs: 2000, budgetMs: 10_000 },
  };
}
