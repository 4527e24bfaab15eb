// Helpers shared by the TAILDIR end-to-end tests: a job writing what it tails to
// file_roll, reading that output back, and counting lines by sequence number.
import fs from 'node:fs';
import path from 'node:path';
import { jobText } from '../support/agent.js';

type Props = Record<string, string | number | boolean>;

/** A file-name regex as it must be written in a job file (properties escapes: `\.` is written `\\.`). */
export function inJob(regex: string): string {
  return regex.replaceAll('\\', '\\\\');
}

/** TAILDIR r1 (group f1 = `logs`/`regex`) → memory c1 → file_roll k1 into `out`. */
export function taildirJob(opts: { logs: string; regex: string; out: string; posFile: string; source?: Props; sink?: Props }): string {
  return jobText({
    sources: {
      r1: {
        type: 'TAILDIR',
        filegroups: 'f1',
        'filegroups.f1': `${opts.logs}/${inJob(opts.regex)}`,
        positionFile: opts.posFile,
        writePosInterval: 100,
        batchSize: 100,
        channels: 'c1',
        ...opts.source,
      },
    },
    channels: { c1: { type: 'memory', capacity: 100000, transactionCapacity: 1000 } },
    sinks: { k1: { type: 'file_roll', channel: 'c1', 'sink.directory': opts.out, 'sink.rollInterval': 0, 'sink.batchSize': 1000, ...opts.sink } },
  });
}

/** Every line file_roll wrote into `dir`, files in name order. */
export function outLines(dir: string): string[] {
  const lines: string[] = [];
  for (const f of fs.readdirSync(dir).sort()) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    if (text === '') continue;
    const parts = text.split('\n');
    if (parts.at(-1) === '') parts.pop();
    lines.push(...parts);
  }
  return lines;
}

/** `seq=<n> ...` lines: how often each number came, what is missing, what came more than once. */
export function countSeqs(lines: readonly string[], total: number): { missing: number[]; duplicated: number[]; foreign: string[]; counts: Map<number, number> } {
  const counts = new Map<number, number>();
  const foreign: string[] = [];
  for (const l of lines) {
    const m = /^seq=(\d+) /.exec(l);
    if (!m) {
      foreign.push(l);
      continue;
    }
    const n = Number(m[1]);
    counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  const missing: number[] = [];
  for (let i = 0; i < total; i++) if (!counts.has(i)) missing.push(i);
  const duplicated = [...counts].filter(([, c]) => c > 1).map(([n]) => n);
  return { missing, duplicated, foreign, counts };
}

/** Line `n`: `seq=<n>` padded with x to `width` bytes, newline included. */
export function seqLine(n: number, width = 100): string {
  const head = `seq=${n} `;
  return head + 'x'.repeat(Math.max(0, width - head.length - 1)) + '\n';
}

/** Lines `from` .. `to - 1` as one string. */
export function seqLines(from: number, to: number, width = 100): string {
  let s = '';
  for (let i = from; i < to; i++) s += seqLine(i, width);
  return s;
}

/** The position file's entries (Java Flume's format). */
export function positions(file: string): Array<{ inode: number; pos: number; file: string }> {
  try {
    const t = fs.readFileSync(file, 'utf8');
    return t === '' ? [] : (JSON.parse(t) as Array<{ inode: number; pos: number; file: string }>);
  } catch {
    return [];
  }
}

/** Descriptors of process `pid` that point into `dir`. */
export function fdsInto(pid: number, dir: string): number {
  let n = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(dir + '/')) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

/** All descriptors of process `pid`. */
export function fdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Resident memory of `pid` in bytes. */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}
