import { readFileSync, writeFileSync } from 'node:fs';

/**
 * Memory and CPU of another process, read from /proc (Linux). Every reader returns undefined
 * when the figure cannot be read (process gone, not Linux) rather than a made-up number.
 */

/** Linux reports utime/stime in USER_HZ ticks, fixed at 100 per second for user space. */
const TICKS_PER_SECOND = 100;

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resident set size now, in MiB. */
export function rssMb(pid: number): number | undefined {
  return statusField(pid, 'VmRSS');
}

/** Peak resident set size since start or since the last resetPeakRss, in MiB. */
export function peakRssMb(pid: number): number | undefined {
  return statusField(pid, 'VmHWM');
}

/** Restarts the peak (VmHWM) at the current RSS, so a peak can be taken per measurement. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** User + system CPU time the process has used, in milliseconds. */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Peak RSS and CPU used by one process over one measurement. */
export class ProcessMeter {
  private readonly cpuAtStart: number | undefined;
  private readonly peakReset: boolean;
  private sampledPeak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number) {
    this.peakReset = resetPeakRss(pid);
    this.cpuAtStart = cpuMs(pid);
    // Sampling backs up VmHWM where clear_refs is not allowed.
    this.timer = setInterval(() => {
      this.sampledPeak = Math.max(this.sampledPeak, rssMb(pid) ?? 0);
    }, 200);
  }

  stop(): { peakRssMb: number | undefined; cpuMs: number | undefined } {
    clearInterval(this.timer);
    const now = rssMb(this.pid);
    const peak = this.peakReset ? peakRssMb(this.pid) : Math.max(this.sampledPeak, now ?? 0) || undefined;
    const cpuEnd = cpuMs(this.pid);
    return { peakRssMb: peak, cpuMs: cpuEnd !== undefined && this.cpuAtStart !== undefined ? cpuEnd - this.cpuAtStart : undefined };
  }
}
