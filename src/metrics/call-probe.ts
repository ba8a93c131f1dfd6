import type { CallOutcome, CallVerdict, StageName } from './names.js';

/** Where a call's probe reports: the gateway's metrics, or a test double. */
export interface CallMetricsSink {
  stage(stage: StageName, seconds: number): void;
  finish(probe: CallProbe, seconds: number): void;
}

/**
 * One call's timing and result, filled in as the call goes through the stages: one small object
 * per call, and one `performance.now()` per step (each lap ends the previous step).
 */
export class CallProbe {
  verdict: CallVerdict = 'none';
  outcome: CallOutcome = 'not_forwarded';
  private readonly started: number;
  private last: number;

  constructor(
    private readonly sink: CallMetricsSink,
    readonly method: string,
    readonly upstream: string,
    /** The catalog's name of the tool (or other item); `''` for a name no upstream offers. */
    readonly target: string,
  ) {
    this.started = this.last = performance.now();
  }

  /** Ends `stage`: the time since the previous lap (or the start). */
  lap(stage: StageName): void {
    const now = performance.now();
    this.sink.stage(stage, (now - this.last) / 1000);
    this.last = now;
  }

  /** Starts timing afresh without reporting (time between stages that is not any stage's). */
  skip(): void {
    this.last = performance.now();
  }

  end(): void {
    this.sink.finish(this, (performance.now() - this.started) / 1000);
  }
}
