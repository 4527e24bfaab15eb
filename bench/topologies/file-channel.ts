import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../test/support/agent.js';
import { startBenchAgent } from '../lib/flume.js';
import type { BenchContext, Row, Sample, Topology } from '../lib/types.js';
import { seqBodyBytes } from './stress-null.js';

const BODY = 100;
const BATCH = 1000;
const EVENTS = 5_000_000;
const REPLAY_EVENTS = 1_000_000;

function fileChannel(dir: string, extra = ''): string {
  return `a1.channels.c1.type = file
a1.channels.c1.checkpointDir = ${path.join(dir, 'checkpoint')}
a1.channels.c1.dataDirs = ${path.join(dir, 'data')}
a1.channels.c1.transactionCapacity = ${BATCH}
a1.channels.c1.minimumRequiredSpace = 1048576
${extra}`;
}

function job(dir: string, source: string, events: number, channel = fileChannel(dir)): string {
  return `a1.sources = r1
a1.channels = c1
a1.sinks = k1
${source}
a1.sources.r1.batchSize = ${BATCH}
a1.sources.r1.channels = c1
${channel}
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
a1.sinks.k1.batchSize = ${BATCH}
a1.sinks.k1.logEveryNEvents = ${events}
`;
}

const STRESS = (n: number): string => `a1.sources.r1.type = org.apache.flume.source.StressSource\na1.sources.r1.size = ${BODY}\na1.sources.r1.maxTotalEvents = ${n}`;

async function runThroughput(ctx: BenchContext, source: string, events: number, bytesPerEvent: number, label: string, channel?: (dir: string) => string): Promise<Sample> {
  const tmp = tempDir('flume-bench-fc-');
  try {
    const a = await startBenchAgent(job(tmp.dir, source, events, channel?.(tmp.dir)), { dir: tmp.dir, profileDir: ctx.profileDir && path.join(ctx.profileDir, label) });
    try {
      const done = await a.waitLog(new RegExp(`k1: ${events} events consumed`), 60_000 + events / 50);
      return { events, seconds: (done.loggedAtMs - a.startedAtMs) / 1000, bytesPerEvent, ...a.memory() };
    } finally {
      await a.stop();
    }
  } finally {
    tmp.cleanup();
  }
}

/**
 * Fills a file channel with REPLAY_EVENTS events (an agent with no sink), kills it with
 * SIGKILL (no checkpoint on close), and times the next start's replay from the line
 * the channel logs: "replayed N event(s) in X ms".
 */
async function runReplay(ctx: BenchContext): Promise<Sample> {
  const tmp = tempDir('flume-bench-replay-');
  try {
    const fill = `a1.sources = r1
a1.channels = c1
${STRESS(REPLAY_EVENTS)}
a1.sources.r1.batchSize = ${BATCH}
a1.sources.r1.channels = c1
${fileChannel(tmp.dir)}`;
    const f = await startBenchAgent(fill, { dir: tmp.dir });
    const deadline = Date.now() + 120_000;
    // StressSource logs nothing when it is done: wait until the log holds every event.
    const dataDir = path.join(tmp.dir, 'data');
    const want = REPLAY_EVENTS * (BODY + 10);
    for (;;) {
      let bytes = 0;
      for (const n of readdirSync(dataDir)) if (n.startsWith('log-')) bytes += statSync(path.join(dataDir, n)).size;
      if (bytes >= want) break;
      if (Date.now() > deadline) throw new Error(`the channel holds only ${bytes} bytes after 120 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
    f.agent.proc.kill('SIGKILL');
    await f.agent.exited;
    const a = await startBenchAgent(job(tmp.dir, 'a1.sources.r1.type = seq\na1.sources.r1.totalEvents = 0', REPLAY_EVENTS), {
      dir: tmp.dir,
      profileDir: ctx.profileDir && path.join(ctx.profileDir, 'replay'),
    });
    try {
      const m = await a.waitLog(/file channel c1: replayed (\d+) event\(s\) in (\d+) ms/, 1000);
      const events = Number(m.match[2]);
      return { events, seconds: Number(m.match[3]) / 1000, bytesPerEvent: BODY, ...a.memory() };
    } finally {
      await a.stop();
    }
  } finally {
    tmp.cleanup();
  }
}

export const fileChannelBench: Topology = {
  id: 'file-channel',
  title: 'file channel: throughput and replay',
  async run(ctx) {
    const common =
      `file channel (one data directory, transactionCapacity ${BATCH}, fsyncPerTransaction = true: every commit is written and fsync'd ` +
      'before it returns, concurrent commits share one fsync) → null (batchSize 1000, logEveryNEvents = the total). Timed from "Agent a1 started" to ' +
      '"k1: N events consumed" in the agent\'s own log.';
    const stress: Row = {
      id: 'stress-file-null',
      title: `StressSource (${BODY} B bodies, batch ${BATCH}) → file → null`,
      kind: 'throughput',
      ours: [],
      peer: [],
      peerLabel: "no peer: syslog-ng has no transactional disk buffer with the same guarantee; Java Flume 1.11's file channel did 38,000 ev/s on this machine",
      target: { metric: 'eps', min: 500_000 },
      method: `StressSource size=${BODY}, batchSize=${BATCH}, maxTotalEvents=${EVENTS.toLocaleString('en-US')} → ${common}`,
      notes: [],
    };
    const seq: Row = {
      id: 'seq-file-null',
      title: `seq (batch ${BATCH}) → file → null`,
      kind: 'throughput',
      ours: [],
      peer: [],
      peerLabel: stress.peerLabel,
      target: { metric: 'eps', min: 500_000 },
      method: `seq batchSize=${BATCH}, totalEvents=${EVENTS.toLocaleString('en-US')} → ${common}`,
      notes: [],
    };
    const replay: Row = {
      id: 'file-replay-1m',
      title: `file channel replay of ${REPLAY_EVENTS.toLocaleString('en-US')} queued events after kill -9`,
      kind: 'throughput',
      ours: [],
      peer: [],
      peerLabel: 'no peer',
      target: { metric: 'eps', min: REPLAY_EVENTS / 3 },
      method:
        `An agent with StressSource (${BODY} B) → file channel and no sink fills the channel with ${REPLAY_EVENTS.toLocaleString('en-US')} events and is killed ` +
        'with SIGKILL (no checkpoint on close). The next start replays; the time is what the channel logs ("replayed N event(s) in X ms"): checkpoint read, ' +
        'log records after it read and checksummed, queue rebuilt. Target: 3 s.',
      notes: [],
    };
    for (let r = 1; r <= ctx.repeat; r++) {
      ctx.log(`StressSource → file → null, run ${r}/${ctx.repeat}`);
      stress.ours.push(await ctx.measure('throughput', () => runThroughput(ctx, STRESS(EVENTS), EVENTS, BODY, `stress-file-${r}`)));
      ctx.log(`seq → file → null, run ${r}/${ctx.repeat}`);
      seq.ours.push(
        await ctx.measure('throughput', () => runThroughput(ctx, `a1.sources.r1.type = seq\na1.sources.r1.totalEvents = ${EVENTS}`, EVENTS, seqBodyBytes(EVENTS) / EVENTS, `seq-file-${r}`)),
      );
      ctx.log(`file channel replay of ${REPLAY_EVENTS} events, run ${r}/${ctx.repeat}`);
      replay.ours.push(await ctx.measure('throughput', () => runReplay(ctx)));
    }
    return [stress, seq, replay];
  },
};

const SPILL_EVENTS = 20_000_000;

/** SPILLABLEMEMORY whose memory never fills, against the memory channel: the price of the run bookkeeping. */
export const spillableBench: Topology = {
  id: 'spillable-memory',
  title: 'SPILLABLEMEMORY (memory never full) vs memory',
  async run(ctx) {
    const row: Row = {
      id: 'stress-spillable-null',
      title: `StressSource (${BODY} B, batch ${BATCH}) → SPILLABLEMEMORY → null, memory never full`,
      kind: 'throughput',
      ours: [],
      peer: [],
      peerLabel: 'our memory channel (capacity 10,000, transactionCapacity 1,000) in the same topology',
      target: { metric: 'eps-vs-peer', minRatio: 0.9 },
      method:
        `StressSource size=${BODY}, batchSize=${BATCH}, maxTotalEvents=${SPILL_EVENTS.toLocaleString('en-US')} → SPILLABLEMEMORY (memoryCapacity 10,000, ` +
        `transactionCapacity ${BATCH}, overflow in a temporary directory, never used) → null; the peer column is the same run with the memory channel. ` +
        "Timed as the other rows, from the agent's own log.",
      notes: [],
    };
    for (let r = 1; r <= ctx.repeat; r++) {
      ctx.log(`StressSource → SPILLABLEMEMORY → null, run ${r}/${ctx.repeat}`);
      row.ours.push(
        await ctx.measure('throughput', () =>
          runThroughput(
            ctx,
            STRESS(SPILL_EVENTS),
            SPILL_EVENTS,
            BODY,
            `spill-${r}`,
            (dir) =>
              `a1.channels.c1.type = SPILLABLEMEMORY\na1.channels.c1.memoryCapacity = 10000\na1.channels.c1.transactionCapacity = ${BATCH}\n` +
              `a1.channels.c1.checkpointDir = ${path.join(dir, 'checkpoint')}\na1.channels.c1.dataDirs = ${path.join(dir, 'data')}\na1.channels.c1.minimumRequiredSpace = 1048576\n`,
          ),
        ),
      );
      ctx.log(`StressSource → memory → null, run ${r}/${ctx.repeat}`);
      row.peer.push(
        await ctx.measure('throughput', () =>
          runThroughput(
            ctx,
            STRESS(SPILL_EVENTS),
            SPILL_EVENTS,
            BODY,
            `spill-mem-${r}`,
            () => `a1.channels.c1.type = memory\na1.channels.c1.capacity = 10000\na1.channels.c1.transactionCapacity = ${BATCH}\n`,
          ),
        ),
      );
    }
    return [row];
  },
};
