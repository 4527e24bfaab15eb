import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../test/support/agent.js';
import { startBenchAgent } from '../lib/flume.js';
import { writeLinesFile } from '../lib/files.js';
import { sleep } from '../lib/proc.js';
import type { BenchContext, Row, Sample, Topology } from '../lib/types.js';

const FILES = 100;
const LINES_PER_FILE = 10_000;
const BODY = 100;
const BATCH = 1000;
const EVENTS = FILES * LINES_PER_FILE;
/** The source's default quietPeriod: files are picked up only after this long unchanged. */
const QUIET_MS = 500;

function job(spool: string): string {
  return `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = spooldir
a1.sources.r1.spoolDir = ${spool}
a1.sources.r1.batchSize = ${BATCH}
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = ${10 * BATCH}
a1.channels.c1.transactionCapacity = ${BATCH}
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
a1.sinks.k1.batchSize = ${BATCH}
a1.sinks.k1.logEveryNEvents = ${EVENTS}
`;
}

/** Puts the files back as they were before a run (names without .COMPLETED, no position file), then lets them go quiet. */
async function reset(spool: string): Promise<void> {
  for (const n of fs.readdirSync(spool)) {
    if (n.endsWith('.COMPLETED')) fs.renameSync(path.join(spool, n), path.join(spool, n.slice(0, -'.COMPLETED'.length)));
  }
  fs.rmSync(path.join(spool, '.flumespool'), { recursive: true, force: true });
  await sleep(QUIET_MS + 100);
}

async function runOurs(ctx: BenchContext, spool: string, label: string): Promise<Sample> {
  await reset(spool);
  const tmp = tempDir('flume-bench-');
  try {
    const a = await startBenchAgent(job(spool), { dir: tmp.dir, profileDir: ctx.profileDir && path.join(ctx.profileDir, label) });
    try {
      const done = await a.waitLog(new RegExp(`k1: ${EVENTS} events consumed`), 120_000);
      const left = fs.readdirSync(spool).filter((n) => n.endsWith('.log')).length;
      return {
        events: EVENTS,
        seconds: (done.loggedAtMs - a.startedAtMs) / 1000,
        bytesPerEvent: BODY + 1,
        ...a.memory(),
        notes: left ? [`${left} file(s) not yet renamed when the last event was consumed`] : [],
      };
    } finally {
      await a.stop();
    }
  } finally {
    tmp.cleanup();
  }
}

/** The peer: `wc -l` over the same files (page cache warm), timed around the process, CPU and peak RSS from GNU time. */
function runPeer(spool: string): Sample {
  const files = fs
    .readdirSync(spool)
    .filter((n) => n.endsWith('.log') || n.endsWith('.COMPLETED'))
    .sort()
    .map((n) => path.join(spool, n));
  // GNU time (Debian `time`) reports the CPU and peak RSS; without it they are left out.
  const timed = fs.existsSync('/usr/bin/time');
  const t0 = process.hrtime.bigint();
  const r = timed ? spawnSync('/usr/bin/time', ['-f', '%U %S %M', 'wc', '-l', ...files], { encoding: 'utf8' }) : spawnSync('wc', ['-l', ...files], { encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`wc -l failed: ${r.stderr}`);
  const total = Number(/(\d+) total/.exec(r.stdout)?.[1]);
  if (total !== EVENTS) throw new Error(`wc -l counted ${total} lines, not ${EVENTS}`);
  if (!timed) return { events: total, seconds, bytesPerEvent: BODY + 1, peakRssKb: 0, rssKb: 0, notes: ['CPU and RSS not measured: /usr/bin/time (Debian time) is missing'] };
  const [user, sys, maxKb] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number];
  return { events: total, seconds, bytesPerEvent: BODY + 1, peakRssKb: maxKb, rssKb: maxKb, cpuSeconds: user + sys };
}

export const spooldir: Topology = {
  id: 'spooldir-memory-null',
  title: 'spooldir → memory → null',
  async run(ctx) {
    const row: Row = {
      id: 'spooldir-memory-null',
      title: `spooldir (${FILES} files × ${LINES_PER_FILE.toLocaleString('en-US')} lines of ${BODY} B, batch ${BATCH}) → memory → null`,
      kind: 'throughput',
      ours: [],
      peer: [],
      peerLabel: '`wc -l` over the same files (a lower bound: reading and counting lines, no events)',
      target: { metric: 'eps', min: 1_000_000 },
      method:
        `${FILES} files of ${LINES_PER_FILE.toLocaleString('en-US')} lines (${BODY} bytes + newline) are written once, before the runs, and are in the page cache. ` +
        `Our agent: spooldir (batchSize ${BATCH}, the default LINE deserializer, quietPeriod and pollDelay at their defaults) → memory (capacity ${10 * BATCH}, ` +
        `transactionCapacity ${BATCH}) → null (batchSize ${BATCH}, logEveryNEvents = ${EVENTS.toLocaleString('en-US')}, so it logs once, when the last event ` +
        'was taken and committed). Before each run the files get their names back (no .COMPLETED) and the position file is removed, and the harness ' +
        `waits ${QUIET_MS + 100} ms so they are quiet. Time: from the agent's own "Agent a1 started" log line to "k1: N events consumed"; it includes ` +
        'the first directory scan, one position write per batch and the 100 renames. Peer: `wc -l` over the same files, timed around the process ' +
        '(start-up included); CPU and peak RSS from GNU time.',
      notes: [],
    };
    const t = tempDir('flume-bench-spool-');
    try {
      const spool = path.join(t.dir, 'spool');
      fs.mkdirSync(spool);
      for (let f = 0; f < FILES; f++) writeLinesFile(path.join(spool, `f${String(f).padStart(3, '0')}.log`), LINES_PER_FILE, BODY);
      for (let r = 1; r <= ctx.repeat; r++) {
        ctx.log(`spooldir → memory → null: our agent, run ${r}/${ctx.repeat}`);
        row.ours.push(await ctx.measure('throughput', () => runOurs(ctx, spool, `spooldir-${r}`)));
        ctx.log(`spooldir → memory → null: wc -l, run ${r}/${ctx.repeat}`);
        row.peer.push(await ctx.measure('throughput', async () => runPeer(spool)));
      }
    } finally {
      t.cleanup();
    }
    return [row];
  },
};
