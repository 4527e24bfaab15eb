import path from 'node:path';
import { tempDir } from '../../test/support/agent.js';
import { startBenchAgent } from '../lib/flume.js';
import { writeLinesFile } from '../lib/files.js';
import { memoryOf, sleep } from '../lib/proc.js';
import { startSyslogNg, type SyslogNgTools } from '../lib/syslog-ng.js';
import type { BenchContext, Row, Sample, Topology } from '../lib/types.js';

/** Body size of the synthetic events. */
const BODY = 100;
/** Events per agent run: long enough (seconds) that start-up and JIT warm-up are a small share. */
const STRESS_EVENTS = 50_000_000;
const SEQ_EVENTS = 10_000_000;
/** Lines the peer reads per run (it is slower, and each line costs 101 bytes of disk). */
const PEER_EVENTS = 1_000_000;
const BATCH = 1000;

function job(source: string): string {
  return `a1.sources = r1
a1.channels = c1
a1.sinks = k1
${source}
a1.sources.r1.batchSize = ${BATCH}
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = ${10 * BATCH}
a1.channels.c1.transactionCapacity = ${BATCH}
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
a1.sinks.k1.batchSize = ${BATCH}
`;
}

/**
 * Runs one agent whose null sink logs once, when it has consumed all `events`
 * (logEveryNEvents = events), and times it with the agent's own log timestamps:
 * from "Agent a1 started" to "k1: <events> events consumed".
 */
async function runOurs(ctx: BenchContext, source: string, events: number, bytesPerEvent: number, label: string): Promise<Sample> {
  const tmp = tempDir('flume-bench-');
  try {
    const a = await startBenchAgent(`${job(source)}a1.sinks.k1.logEveryNEvents = ${events}\n`, {
      dir: tmp.dir,
      profileDir: ctx.profileDir && path.join(ctx.profileDir, label),
    });
    try {
      const done = await a.waitLog(new RegExp(`k1: ${events} events consumed`), 30_000 + events / 100);
      return { events, seconds: (done.loggedAtMs - a.startedAtMs) / 1000, bytesPerEvent, ...a.memory() };
    } finally {
      await a.stop();
    }
  } finally {
    tmp.cleanup();
  }
}

/** Bytes of the decimal numbers 0..n-1: the bodies of `seq`. */
export function seqBodyBytes(n: number): number {
  let total = 0;
  for (let digits = 1, lo = 0, hi = 10; lo < n; digits++, lo = hi, hi *= 10) total += (Math.min(n, hi) - lo) * digits;
  return total;
}

const PEER_CONF = (input: string): string => `
options { stats-freq(0); threaded(yes); flush-lines(${BATCH}); log-fifo-size(100000); };
source s_file { file("${input}" flags(no-parse) follow-freq(1) log-iw-size(100000) log-fetch-limit(${BATCH})); };
destination d_null { file("/dev/null" template("\${MSG}\\n")); };
log { source(s_file); destination(d_null); flags(flow-control); };
`;

/**
 * The peer: syslog-ng reads a file of PEER_EVENTS 100-byte lines (already in the
 * page cache) and writes each message to /dev/null, with flow control. Timed from its
 * own "starting up" message to the first `syslog-ng-ctl stats` poll (every 25 ms) that
 * shows every line processed by the /dev/null destination.
 */
async function runPeer(tools: SyslogNgTools, input: string): Promise<Sample> {
  const tmp = tempDir('flume-bench-sng-');
  try {
    const s = await startSyslogNg(tools, tmp.dir, PEER_CONF(input));
    try {
      const deadline = Date.now() + 120_000;
      let processed = 0;
      while ((processed = await s.destinationProcessed('d_null')) < PEER_EVENTS) {
        if (Date.now() > deadline) throw new Error(`syslog-ng processed only ${processed} of ${PEER_EVENTS} lines in 120 s`);
        await sleep(25);
      }
      const end = Date.now();
      return { events: processed, seconds: (end - s.startedAtMs) / 1000, bytesPerEvent: BODY, ...memoryOf(s.pid) };
    } finally {
      await s.stop();
    }
  } finally {
    tmp.cleanup();
  }
}

export const stressNull: Topology = {
  id: 'stress-memory-null',
  title: 'StressSource → memory → null',
  async run(ctx) {
    const stress: Row = {
      id: 'stress-memory-null',
      title: `StressSource (${BODY} B bodies, batch ${BATCH}) → memory → null`,
      kind: 'throughput',
      ours: [],
      peer: [],
      peerLabel: '',
      target: { metric: 'eps', min: 1_000_000 },
      method:
        `Our agent: \`org.apache.flume.source.StressSource\` with size=${BODY}, batchSize=${BATCH}, maxTotalEvents=${STRESS_EVENTS.toLocaleString('en-US')} → ` +
        `memory (capacity ${10 * BATCH}, transactionCapacity ${BATCH}) → null (batchSize ${BATCH}, logEveryNEvents = the total, so it logs exactly once, ` +
        'when the last event was taken and committed). The time is the difference of two timestamps the agent itself logs: "Agent a1 started" and ' +
        '"k1: N events consumed"; node start-up and module loading are not counted. MB/s counts the 100-byte bodies (StressSource shares one body ' +
        'buffer between events, so no body bytes are actually copied). Peer: syslog-ng reads a file of 100-byte lines (already in the page cache) and ' +
        'writes them to /dev/null, timed from its own "starting up" log message to the first `syslog-ng-ctl stats` poll (every 25 ms) that shows every ' +
        'line processed by the destination. syslog-ng has no bulk in-process generator (its example-msg-generator emits one message per timer tick), ' +
        'and loggen over TCP tops out near 460,000 msg/s here, so a file source is the fastest synthetic input it has.',
      notes: [],
    };
    const seq: Row = {
      id: 'seq-memory-null',
      title: `seq (counter bodies, batch ${BATCH}) → memory → null`,
      kind: 'throughput',
      ours: [],
      peer: [],
      peerLabel: "no peer: the bodies are decimal counters, which no syslog-ng source generates; see the StressSource row for syslog-ng's synthetic rate",
      target: { metric: 'eps', min: 1_000_000 },
      method:
        `As the StressSource row, with \`seq\` (batchSize=${BATCH}, totalEvents=${SEQ_EVENTS.toLocaleString('en-US')}): every body is a new Buffer holding ` +
        `the decimal counter, so this row also prices one small Buffer allocation per event. MB/s counts the actual body bytes ` +
        `(${(seqBodyBytes(SEQ_EVENTS) / SEQ_EVENTS).toFixed(2)} B on average).`,
      notes: [],
    };
    let input: { path: string; cleanup(): void } | undefined;
    const tools = 'unavailable' in ctx.syslogNg ? undefined : ctx.syslogNg;
    if (!tools) stress.peerLabel = `no peer: ${(ctx.syslogNg as { unavailable: string }).unavailable}`;
    else {
      const t = tempDir('flume-bench-in-');
      input = { path: path.join(t.dir, 'lines.txt'), cleanup: t.cleanup };
      writeLinesFile(input.path, PEER_EVENTS, BODY);
      stress.peerLabel =
        `syslog-ng ${tools.version}: file source (${PEER_EVENTS.toLocaleString('en-US')} lines of ${BODY} B + newline, flags(no-parse), ` +
        `log-fetch-limit(${BATCH}), threaded(yes)) → /dev/null file destination, flow-control`;
    }
    try {
      for (let r = 1; r <= ctx.repeat; r++) {
        ctx.log(`stress → memory → null: our agent, run ${r}/${ctx.repeat}`);
        stress.ours.push(
          await ctx.measure('throughput', () =>
            runOurs(
              ctx,
              'a1.sources.r1.type = org.apache.flume.source.StressSource\n' + `a1.sources.r1.size = ${BODY}\na1.sources.r1.maxTotalEvents = ${STRESS_EVENTS}`,
              STRESS_EVENTS,
              BODY,
              `stress-${r}`,
            ),
          ),
        );
        if (tools && input) {
          ctx.log(`stress → memory → null: syslog-ng file → /dev/null, run ${r}/${ctx.repeat}`);
          stress.peer.push(await ctx.measure('throughput', () => runPeer(tools, input.path)));
        }
        ctx.log(`seq → memory → null: our agent, run ${r}/${ctx.repeat}`);
        seq.ours.push(
          await ctx.measure('throughput', () => runOurs(ctx, `a1.sources.r1.type = seq\na1.sources.r1.totalEvents = ${SEQ_EVENTS}`, SEQ_EVENTS, seqBodyBytes(SEQ_EVENTS) / SEQ_EVENTS, `seq-${r}`)),
        );
      }
    } finally {
      input?.cleanup();
    }
    return [stress, seq];
  },
};
