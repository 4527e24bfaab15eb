import path from 'node:path';
import { tempDir } from '../../test/support/agent.js';
import { startBenchAgent } from '../lib/flume.js';
import type { BenchContext, Row, Sample, Topology } from '../lib/types.js';
import { seqBodyBytes } from './stress-null.js';

/** Events per run (the routed agent takes about 4 s for them, the baseline under 3). */
const EVENTS = 10_000_000;
const BATCH = 1000;
/**
 * The regex_filter: a "drop the debug lines" filter (excludeEvents = true) whose pattern
 * occurs in no body, so it keeps every event but decodes and scans each body in full.
 * (`.*`, Flume's default and the other way to keep everything, is recognised by the
 * interceptor, which then never looks at a body: it would price nothing.)
 */
const FILTER_REGEX = 'DEBUG|TRACE';

const channel = (c: string): string => `a1.channels.${c}.type = memory
a1.channels.${c}.capacity = ${10 * BATCH}
a1.channels.${c}.transactionCapacity = ${BATCH}
`;
const nullSink = (k: string, c: string): string => `a1.sinks.${k}.type = null
a1.sinks.${k}.channel = ${c}
a1.sinks.${k}.batchSize = ${BATCH}
a1.sinks.${k}.logEveryNEvents = ${EVENTS}
`;
const SOURCE = `a1.sources.r1.type = seq
a1.sources.r1.totalEvents = ${EVENTS}
a1.sources.r1.batchSize = ${BATCH}
`;

/** seq → four interceptors → replicating → two memory channels → two null sinks. */
const ROUTED = `a1.sources = r1
a1.channels = c1 c2
a1.sinks = k1 k2
${SOURCE}a1.sources.r1.channels = c1 c2
a1.sources.r1.selector.type = replicating
a1.sources.r1.interceptors = ts host st filter
a1.sources.r1.interceptors.ts.type = timestamp
a1.sources.r1.interceptors.host.type = host
a1.sources.r1.interceptors.st.type = static
a1.sources.r1.interceptors.st.key = datacenter
a1.sources.r1.interceptors.st.value = dc1
a1.sources.r1.interceptors.filter.type = regex_filter
a1.sources.r1.interceptors.filter.regex = ${FILTER_REGEX}
a1.sources.r1.interceptors.filter.excludeEvents = true
${channel('c1')}${channel('c2')}${nullSink('k1', 'c1')}${nullSink('k2', 'c2')}`;

/** The same source, no interceptors, one channel, one null sink. */
const BASELINE = `a1.sources = r1
a1.channels = c1
a1.sinks = k1
${SOURCE}a1.sources.r1.channels = c1
${channel('c1')}${nullSink('k1', 'c1')}`;

/**
 * Runs one agent and times it with its own log: from "Agent a1 started" to the last of
 * its null sinks logging "<sink>: EVENTS events consumed" (each logs once, at the end).
 */
async function runOne(ctx: BenchContext, job: string, sinks: readonly string[], label: string): Promise<Sample> {
  const tmp = tempDir('flume-bench-');
  try {
    const a = await startBenchAgent(job, { dir: tmp.dir, profileDir: ctx.profileDir && path.join(ctx.profileDir, label) });
    try {
      const timeout = 30_000 + EVENTS / 100;
      const done = await Promise.all(sinks.map((k) => a.waitLog(new RegExp(`${k}: ${EVENTS} events consumed`), timeout)));
      const end = Math.max(...done.map((d) => d.loggedAtMs));
      return { events: EVENTS, seconds: (end - a.startedAtMs) / 1000, bytesPerEvent: seqBodyBytes(EVENTS) / EVENTS, ...a.memory() };
    } finally {
      await a.stop();
    }
  } finally {
    tmp.cleanup();
  }
}

export const routing: Topology = {
  id: 'routing-interceptors-replicating',
  title: 'seq → 4 interceptors → replicating → 2 memory → 2 null, against the same without routing',
  async run(ctx) {
    const row: Row = {
      id: 'routing-interceptors-replicating',
      title: `seq (batch ${BATCH}) → timestamp, host, static, regex_filter → replicating → 2 memory → 2 null (peer: our own unrouted baseline)`,
      kind: 'throughput',
      ours: [],
      peer: [],
      peerLabel:
        'our own agent without routing — the baseline this row is judged against, not another program: the same seq source → one memory ' +
        'channel → one null sink, no interceptors. "ev/s ours÷peer" is the routed throughput as a share of that baseline',
      target: { metric: 'eps-vs-peer', minRatio: 0.6 },
      method:
        `Routed: \`seq\` (batchSize=${BATCH}, totalEvents=${EVENTS.toLocaleString('en-US')}) with the interceptors timestamp, host, static ` +
        '(key datacenter, value dc1) and regex_filter, in that order → the replicating selector → two memory channels (capacity ' +
        `${10 * BATCH}, transactionCapacity ${BATCH}) → two null sinks (batchSize ${BATCH}). The regex_filter is regex=\`${FILTER_REGEX}\` with ` +
        'excludeEvents=true: a "drop the debug lines" filter that matches no body, so every event is kept while every body is decoded and ' +
        "searched in full (`.*`, Flume's default and the other keep-everything setting, is recognised by the interceptor, which then never " +
        'looks at a body). Baseline (the peer column): the same seq source straight into one memory channel and one null sink, no ' +
        'interceptors. The two agents run alternately, started as users start them, and are timed with their own log: from "Agent a1 ' +
        'started" to the null sink\'s (routed: the later of the two sinks\') single "kN: N events consumed" line, so every sink must have ' +
        'taken all N events. Events/s counts source events (the routed agent moves each through two channels and two sinks). MB/s counts ' +
        `the counter bodies (${(seqBodyBytes(EVENTS) / EVENTS).toFixed(2)} B on average). seq rather than StressSource: seq allocates a new body ` +
        'per event, as every real source does, so the baseline costs what a source costs per event (0.3 µs); StressSource hands every event ' +
        'the same body buffer and makes events for 0.04 µs, against which writing three headers alone takes 40 % of the throughput, so the ' +
        'ratio would price V8 property stores rather than the routing.',
      notes: [],
    };
    for (let r = 1; r <= ctx.repeat; r++) {
      ctx.log(`routing: seq → 4 interceptors → replicating → 2 memory → 2 null, run ${r}/${ctx.repeat}`);
      row.ours.push(await ctx.measure('throughput', () => runOne(ctx, ROUTED, ['k1', 'k2'], `routing-${r}`)));
      ctx.log(`routing baseline: seq → memory → null, run ${r}/${ctx.repeat}`);
      row.peer.push(await ctx.measure('throughput', () => runOne(ctx, BASELINE, ['k1'], `routing-baseline-${r}`)));
    }
    return [row];
  },
};
