/**
 * Directory locks: `in_use.lock` created with O_EXCL and holding the owner's pid, as
 * Flume names it. A lock left by a process that is gone (kill -9) is taken over; one
 * held by a live process (or by another channel of this process) is refused, naming it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ChannelError, ErrorCodes } from '../../plugin-api/index.js';

export const LOCK_NAME = 'in_use.lock';
const heldHere = new Map<string, string>();

/** When the process started (clock ticks since boot, /proc/<pid>/stat field 22), to tell a reused pid from the owner. */
function startTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function alive(pid: number, started: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // The pid is in use: by the owner, unless it started at another time (the pid was reused).
  const now = startTime(pid);
  return started === undefined || now === undefined || now === started;
}

function describe(pid: number): string {
  try {
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    return cmd ? `process ${pid} (${cmd.length > 200 ? cmd.slice(0, 200) + '…' : cmd})` : `process ${pid}`;
  } catch {
    return `process ${pid}`;
  }
}

/** Locks `dir` for channel `owner`; returns the release function. */
export function lockDir(dir: string, owner: string): () => void {
  const real = path.resolve(dir);
  const other = heldHere.get(real);
  if (other !== undefined) {
    throw new ChannelError(ErrorCodes.CHANNEL_LOCKED, `directory ${real} is already used by channel ${other} of this agent; give each file channel its own checkpointDir and dataDirs`);
  }
  const file = path.join(real, LOCK_NAME);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, `${process.pid} ${startTime(process.pid) ?? ''}\n`);
      fs.closeSync(fd);
      heldHere.set(real, owner);
      return () => {
        heldHere.delete(real);
        try {
          if (fs.readFileSync(file, 'utf8').split(/\s+/)[0] === String(process.pid)) fs.unlinkSync(file);
        } catch {
          // already gone
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let pid = NaN;
    let started: string | undefined;
    try {
      const [p, st] = fs.readFileSync(file, 'utf8').trim().split(/\s+/);
      pid = Number.parseInt(p ?? '', 10);
      started = st || undefined;
    } catch {
      continue; // removed meanwhile: try again
    }
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid, started)) {
      throw new ChannelError(
        ErrorCodes.CHANNEL_LOCKED,
        `directory ${real} is locked by ${describe(pid)}: another agent is using it (lock file ${file}); stop it or give this channel other directories`,
      );
    }
    // Stale: its owner is gone.
    try {
      fs.unlinkSync(file);
    } catch {
      // someone else removed it first
    }
  }
  throw new ChannelError(ErrorCodes.CHANNEL_LOCKED, `could not lock directory ${real} (lock file ${file} keeps changing)`);
}
