import fs from 'node:fs';

/**
 * CPU time of the whole machine and of this process tree, in clock ticks, so a run
 * can say how much of the machine other programs used meanwhile (other sessions'
 * tests share these cores and make the figures noisy).
 */
export interface CpuSnapshot {
  /** Busy ticks of all cores (user, nice, system, irq, softirq). */
  busy: number;
  /** All ticks of all cores (busy, idle, iowait, steal). */
  total: number;
  /** This process plus its reaped children (user + system). */
  ours: number;
}

export function cpuSnapshot(): CpuSnapshot | undefined {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
    const self = fs.readFileSync('/proc/self/stat', 'utf8');
    // Fields after "(comm) ": state is field 3; utime, stime, cutime, cstime are fields 14–17.
    const rest = self
      .slice(self.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    const ours = rest[11]! + rest[12]! + rest[13]! + rest[14]!;
    const busy = user + nice + system + irq + softirq;
    return { busy, total: busy + idle + iowait + steal, ours };
  } catch {
    return undefined;
  }
}

/**
 * Share of the machine (0..1) busy with programs other than the harness and the
 * processes it started and reaped between `a` and `b`.
 */
export function otherLoad(a: CpuSnapshot | undefined, b: CpuSnapshot | undefined): number | undefined {
  if (!a || !b || b.total <= a.total) return undefined;
  return Math.max(0, b.busy - a.busy - (b.ours - a.ours)) / (b.total - a.total);
}
