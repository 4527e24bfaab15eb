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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
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
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      heldHere.set(real, owner);
      return () => {
        heldHere.delete(real);
        try {
          if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.unlinkSync(file);
        } catch {
          // already gone
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let pid = NaN;
    try {
      pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    } catch {
      continue; // removed meanwhile: try again
    }
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new ChannelError(ErrorCodes.CHANNEL_LOCKED,
        `directory ${real} is locked by ${describe(pid)}: another agent is using it (lock file ${file}); stop it or give this channel other directories`);
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
