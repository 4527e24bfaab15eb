import fs from 'node:fs';
import path from 'node:path';

/** Total bytes of the regular files in `dir` (not recursive). */
export function dirBytes(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!e.isFile()) continue;
    try {
      n += fs.statSync(path.join(dir, e.name)).size;
    } catch {
      // rolled away between readdir and stat
    }
  }
  return n;
}

export interface LoggenCheck {
  lines: number;
  /** loggen sequence numbers 0..expected-1 never seen. */
  missing: number;
  /** Sequence numbers seen more than once. */
  duplicated: number;
  /** Lines without a loggen sequence number, or outside 0..expected-1. */
  foreign: number;
}

const SEQ = Buffer.from('seq: ');
const THREAD = Buffer.from(', thread: ');

/** The decimal number at `buf[i..end)`, or -1 when there is none. */
function numberAt(buf: Buffer, i: number, end: number): number {
  let v = 0;
  const from = i;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x39) break;
    v = v * 10 + (c - 0x30);
  }
  return i === from ? -1 : v;
}

/**
 * Reads every file under `dir` and checks the loggen stream in them: each line
 * carries `seq: NNNNNNNNNN, thread: TTTT` (one sequence per connection), and with
 * `connections` connections of expected/connections lines each, every (thread,
 * seq) pair must appear once. Lines split across file boundaries are joined
 * (file_roll may roll mid-run).
 */
export function checkLoggenOutput(dir: string, expected: number, connections = 1): LoggenCheck {
  const perConnection = Math.floor(expected / connections);
  const seen = new Uint8Array(expected);
  const r: LoggenCheck = { lines: 0, missing: 0, duplicated: 0, foreign: 0 };
  const files = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(dir, e.name))
    .sort();
  let carry = Buffer.alloc(0);
  const line = (buf: Buffer, start: number, end: number): void => {
    r.lines++;
    const at = buf.indexOf(SEQ, start);
    if (at < 0 || at >= end) {
      r.foreign++;
      return;
    }
    const seq = numberAt(buf, at + SEQ.length, end);
    const t = buf.indexOf(THREAD, at);
    const thread = t < 0 || t >= end ? -1 : numberAt(buf, t + THREAD.length, end);
    const v = thread * perConnection + seq;
    if (seq < 0 || seq >= perConnection || thread < 0 || thread >= connections) r.foreign++;
    else if (seen[v]) r.duplicated++;
    else seen[v] = 1;
  };
  for (const f of files) {
    const fd = fs.openSync(f, 'r');
    try {
      const chunk = Buffer.allocUnsafe(8 * 1024 * 1024);
      for (;;) {
        const n = fs.readSync(fd, chunk, 0, chunk.length, null);
        if (n === 0) break;
        const buf = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
        let start = 0;
        for (;;) {
          const nl = buf.indexOf(0x0a, start);
          if (nl < 0) break;
          line(buf, start, nl);
          start = nl + 1;
        }
        carry = Buffer.from(buf.subarray(start));
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  if (carry.length > 0) line(carry, 0, carry.length);
  for (let i = 0; i < expected; i++) if (!seen[i]) r.missing++;
  return r;
}

/** Writes `count` lines of `bodyBytes` printable bytes plus a newline to `file`. */
export function writeLinesFile(file: string, count: number, bodyBytes: number): void {
  const line = Buffer.alloc(bodyBytes + 1, 0x78);
  line[bodyBytes] = 0x0a;
  const perBlock = Math.max(1, Math.floor((1024 * 1024) / line.length));
  const block = Buffer.alloc(perBlock * line.length);
  for (let i = 0; i < perBlock; i++) line.copy(block, i * line.length);
  const fd = fs.openSync(file, 'w');
  try {
    let left = count;
    while (left > 0) {
      const k = Math.min(left, perBlock);
      fs.writeSync(fd, block, 0, k * line.length);
      left -= k;
    }
  } finally {
    fs.closeSync(fd);
  }
}
