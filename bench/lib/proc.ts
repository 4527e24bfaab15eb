import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';

/**
 * Child processes the harness started (peers, load generators). Every one is killed
 * when the harness exits, however it exits; agents started through
 * test/support/agent.ts are tracked there the same way.
 */
const tracked = new Set<ChildProcess>();

process.on('exit', () => {
  for (const p of tracked) {
    try {
      p.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

export interface Tracked {
  child: ChildProcess;
  pid: number;
  /** stdout and stderr so far (the last 256 kB). */
  output(): string;
  /** Resolves when `re` matches the output, with the match and the time it arrived. */
  waitFor(re: RegExp, timeoutMs: number): Promise<{ match: RegExpMatchArray; atMs: number }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const KEEP = 256 * 1024;

export function spawnTracked(cmd: string, args: readonly string[], opts: SpawnOptions = {}): Tracked {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  tracked.add(child);
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer): void => {
    out += d.toString('utf8');
    if (out.length > KEEP) out = out.slice(out.length - KEEP);
    for (const w of waiters) w();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let gone = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>((resolve) => {
    child.on('exit', (code, signal) => {
      const atMs = Date.now();
      gone = true;
      tracked.delete(child);
      for (const w of waiters) w();
      resolve({ code, signal, atMs });
    });
  });
  return {
    child,
    pid: child.pid,
    output: () => out,
    exited,
    waitFor(re, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = out.match(re);
          if (m) {
            finish();
            resolve({ match: m, atMs: Date.now() });
          } else if (gone) {
            finish();
            reject(new Error(`${cmd} exited before ${re} appeared:\n${out.slice(-2000)}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re} from ${cmd}:\n${out.slice(-2000)}`));
        }, timeoutMs);
        const finish = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop(graceMs = 5000) {
      if (gone) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}

/** A field of /proc/<pid>/status in kB (VmHWM: peak RSS, VmRSS: RSS now); 0 when the process is gone. */
export function procStatusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = text.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** The memory figures and the CPU time of a process, read just before it is stopped. */
export function memoryOf(pid: number): { peakRssKb: number; rssKb: number; cpuSeconds: number } {
  return { peakRssKb: procStatusKb(pid, 'VmHWM'), rssKb: procStatusKb(pid, 'VmRSS'), cpuSeconds: cpuSecondsOf(pid) };
}

/** CPU time (user + system, all threads) the process has used so far, in seconds; 0 when it is gone. */
export function cpuSecondsOf(pid: number): number {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
