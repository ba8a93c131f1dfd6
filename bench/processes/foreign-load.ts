import { readdirSync, readFileSync } from 'node:fs';

/**
 * How much CPU processes outside the harness used during a measurement. The reference machine
 * is shared (other work runs tests and compilers on it); a run that says how busy the machine
 * was with other things can be read for what it is.
 */

const TICKS_PER_SECOND = 100;

/** Busy jiffies of the whole machine: every cpu-line field but idle and iowait. */
function machineBusyTicks(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    return f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
  } catch {
    return undefined;
  }
}

/** utime + stime of every process in the tree under `root` (the harness and all it started). */
function treeTicks(root: number): number {
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(name), Number(fields[1]));
      ticks.set(Number(name), Number(fields[11]) + Number(fields[12]));
    } catch {
      // exited while we looked
    }
  }
  let sum = 0;
  for (const [pid, t] of ticks) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parent.get(p)) {
      if (p === root) {
        sum += t;
        break;
      }
    }
  }
  return sum;
}

export class ForeignLoadMeter {
  private readonly started = performance.now();
  private readonly machine = machineBusyTicks();
  private readonly ours = treeTicks(process.pid);

  /** Average number of cores kept busy by processes outside the harness, or undefined off Linux. */
  stop(): number | undefined {
    const machine = machineBusyTicks();
    if (machine === undefined || this.machine === undefined) return undefined;
    const foreignTicks = machine - this.machine - (treeTicks(process.pid) - this.ours);
    const seconds = (performance.now() - this.started) / 1000;
    return Math.max(0, foreignTicks / TICKS_PER_SECOND / seconds);
  }
}

/**
 * Waits, before a measurement, until other processes leave the machine alone (or a limit is
 * reached): at most `perWaitMs` each time and `budgetMs` over the whole run, so a run stays
 * bounded however busy the machine is. What it waited, and how often it gave up, goes into the
 * results.
 */
export class QuietGate {
  waitedMs = 0;
  gaveUp = 0;
  constructor(private readonly options: { thresholdCores: number; perWaitMs: number; budgetMs: number; probeMs: number }) {}

  async wait(): Promise<void> {
    const started = performance.now();
    for (;;) {
      const meter = new ForeignLoadMeter();
      await new Promise((r) => setTimeout(r, this.options.probeMs));
      const foreign = meter.stop();
      const spent = performance.now() - started;
      if (foreign === undefined || foreign < this.options.thresholdCores) break;
      if (spent >= this.options.perWaitMs || this.waitedMs + spent >= this.options.budgetMs) {
        this.gaveUp++;
        break;
      }
    }
    this.waitedMs += performance.now() - started;
  }
}
