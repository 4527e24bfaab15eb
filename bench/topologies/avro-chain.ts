import fs from 'node:fs';
import path from 'node:path';
import { freePort, tempDir } from '../../test/support/agent.js';
import { startBenchAgent } from '../lib/flume.js';
import { memoryOf, sleep } from '../lib/proc.js';
import { sendAll } from '../lib/replay.js';
import { startSyslogNg, type SyslogNgTools } from '../lib/syslog-ng.js';
import type { BenchContext, Row, Sample, Topology } from '../lib/types.js';

/** Body size of the events (and of the peer's lines, newline not counted). */
const BODY = 100;
/** Events per run, ours and the peer's. */
const EVENTS = 1_000_000;
const BATCH = 1000;

type Compression = 'none' | 'deflate';

/** Agent A: StressSource → memory → avro sink. */
function senderJob(port: number, compression: Compression): string {
  return `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = org.apache.flume.source.StressSource
a1.sources.r1.size = ${BODY}
a1.sources.r1.maxTotalEvents = ${EVENTS}
a1.sources.r1.batchSize = ${BATCH}
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = ${10 * BATCH}
a1.channels.c1.transactionCapacity = ${BATCH}
a1.sinks.k1.type = avro
a1.sinks.k1.channel = c1
a1.sinks.k1.hostname = 127.0.0.1
a1.sinks.k1.port = ${port}
a1.sinks.k1.batch-size = ${BATCH}
a1.sinks.k1.compression-type = ${compression}
`;
}

/** Agent B: avro source → memory → null, which logs once, when all EVENTS were taken. */
function receiverJob(port: number, compression: Compression): string {
  return `a2.sources = r1
a2.channels = c1
a2.sinks = k1
a2.sources.r1.type = avro
a2.sources.r1.bind = 127.0.0.1
a2.sources.r1.port = ${port}
a2.sources.r1.compression-type = ${compression}
a2.sources.r1.channels = c1
a2.channels.c1.type = memory
a2.channels.c1.capacity = ${10 * BATCH}
a2.channels.c1.transactionCapacity = ${BATCH}
a2.sinks.k1.type = null
a2.sinks.k1.channel = c1
a2.sinks.k1.batchSize = ${BATCH}
a2.sinks.k1.logEveryNEvents = ${EVENTS}
`;
}

/**
 * Starts B, then A, and times the chain with the agents' own logs (one machine, one
 * clock): from A's "Agent a1 started" — its StressSource starts generating and its
 * avro sink connecting at that moment — to B's "k1: EVENTS events consumed". Memory
 * and CPU are the sum of both agents; the notes give each.
 */
async function runOurs(ctx: BenchContext, compression: Compression, label: string): Promise<Sample> {
  const tmp = tempDir('flume-bench-');
  try {
    const port = await freePort();
    // Each agent its own directory: both write job.conf.
    const aDir = path.join(tmp.dir, 'a');
    const bDir = path.join(tmp.dir, 'b');
    for (const d of [aDir, bDir]) fs.mkdirSync(d);
    const prof = (side: string): string | undefined => ctx.profileDir && path.join(ctx.profileDir, `${label}-${side}`);
    const b = await startBenchAgent(receiverJob(port, compression), { dir: bDir, name: 'a2', profileDir: prof('b-receiver') });
    try {
      const a = await startBenchAgent(senderJob(port, compression), { dir: aDir, profileDir: prof('a-sender') });
      try {
        const done = await b.waitLog(new RegExp(`k1: ${EVENTS} events consumed`), 30_000 + EVENTS / 50);
        const ma = a.memory();
        const mb = b.memory();
        return {
          events: EVENTS,
          seconds: (done.loggedAtMs - a.startedAtMs) / 1000,
          bytesPerEvent: BODY,
          peakRssKb: ma.peakRssKb + mb.peakRssKb,
          rssKb: ma.rssKb + mb.rssKb,
          cpuSeconds: ma.cpuSeconds + mb.cpuSeconds,
          notes: [
            `A (sender): CPU ${ma.cpuSeconds.toFixed(2)} s, peak ${(ma.peakRssKb / 1024).toFixed(1)} MB; ` +
              `B (receiver): CPU ${mb.cpuSeconds.toFixed(2)} s, peak ${(mb.peakRssKb / 1024).toFixed(1)} MB`,
          ],
        };
      } finally {
        await a.stop();
      }
    } finally {
      await b.stop();
    }
  } finally {
    tmp.cleanup();
  }
}

/**
 * syslog-ng A: network() source (fed by the harness) → network() destination, one TCP
 * connection to B, the lines unchanged. threaded(no): with two syslog-ng processes on
 * this two-core machine it is the faster setting (about 250,000 against 130,000–200,000
 * messages/s with threaded(yes), and with a file() source instead of the network one).
 */
const PEER_SENDER = (inPort: number, outPort: number): string => `
options { stats-freq(0); threaded(no); flush-lines(${BATCH}); log-fifo-size(${10 * BATCH}); };
source s_net { network(ip("127.0.0.1") port(${inPort}) transport("tcp") flags(no-parse) log-iw-size(${10 * BATCH}) log-fetch-limit(${BATCH})); };
destination d_net { network("127.0.0.1" port(${outPort}) transport("tcp") template("\${MSG}\\n")); };
log { source(s_net); destination(d_net); flags(flow-control); };
`;

/** syslog-ng B: network() source → /dev/null. */
const PEER_RECEIVER = (port: number): string => `
options { stats-freq(0); threaded(no); flush-lines(${BATCH}); log-fifo-size(${10 * BATCH}); };
source s_net { network(ip("127.0.0.1") port(${port}) transport("tcp") flags(no-parse) log-iw-size(${10 * BATCH}) log-fetch-limit(${BATCH})); };
destination d_null { file("/dev/null" template("\${MSG}\\n")); };
log { source(s_net); destination(d_null); flags(flow-control); };
`;

/**
 * The peer: syslog-ng B listening, syslog-ng A listening and connected to B, then the
 * harness writes EVENTS lines of 100 bytes (rendered once, sent in 1 MB writes: next to
 * no sender CPU, the counterpart of StressSource) to A. Timed from the harness's first
 * write to the first `syslog-ng-ctl stats` poll of B (every 25 ms) that shows every line
 * processed by its /dev/null destination.
 */
async function runPeer(tools: SyslogNgTools, lines: Buffer): Promise<Sample> {
  const tmp = tempDir('flume-bench-sng-');
  try {
    const bPort = await freePort();
    const aPort = await freePort();
    const bDir = path.join(tmp.dir, 'b');
    const aDir = path.join(tmp.dir, 'a');
    for (const d of [aDir, bDir]) fs.mkdirSync(d);
    const b = await startSyslogNg(tools, bDir, PEER_RECEIVER(bPort));
    try {
      const a = await startSyslogNg(tools, aDir, PEER_SENDER(aPort, bPort));
      try {
        const t0 = Date.now();
        const sent = sendAll(aPort, lines);
        void sent.catch(() => {});
        const deadline = t0 + 120_000;
        let processed = 0;
        while ((processed = await b.destinationProcessed('d_null')) < EVENTS) {
          if (Date.now() > deadline) throw new Error(`syslog-ng B processed only ${processed} of ${EVENTS} lines in 120 s`);
          await sleep(25);
        }
        const end = Date.now();
        const s = await sent;
        const ma = memoryOf(a.pid);
        const mb = memoryOf(b.pid);
        return {
          events: processed,
          seconds: (end - t0) / 1000,
          bytesPerEvent: BODY,
          peakRssKb: ma.peakRssKb + mb.peakRssKb,
          rssKb: ma.rssKb + mb.rssKb,
          cpuSeconds: ma.cpuSeconds + mb.cpuSeconds,
          notes: [
            `A (sender): CPU ${ma.cpuSeconds.toFixed(2)} s, peak ${(ma.peakRssKb / 1024).toFixed(1)} MB; ` +
              `B (receiver): CPU ${mb.cpuSeconds.toFixed(2)} s, peak ${(mb.peakRssKb / 1024).toFixed(1)} MB; ` +
              `the harness finished writing after ${((s.endedAtMs - t0) / 1000).toFixed(3)} s`,
          ],
        };
      } finally {
        await a.stop();
      }
    } finally {
      await b.stop();
    }
  } finally {
    tmp.cleanup();
  }
}

/** EVENTS lines of BODY bytes and a newline. */
function peerLines(): Buffer {
  const line = BODY + 1;
  const out = Buffer.alloc(EVENTS * line, 0x78);
  for (let i = 1; i <= EVENTS; i++) out[i * line - 1] = 0x0a;
  return out;
}

const OUR_METHOD = (compression: Compression): string =>
  `Agent A: \`org.apache.flume.source.StressSource\` (size=${BODY}, batchSize=${BATCH}, maxTotalEvents=${EVENTS.toLocaleString('en-US')}) → ` +
  `memory (capacity ${10 * BATCH}, transactionCapacity ${BATCH}) → avro sink (batch-size ${BATCH}, compression-type=${compression}). ` +
  `Agent B: avro source (compression-type=${compression}) → memory (the same) → null (batchSize ${BATCH}, logEveryNEvents = the total, so ` +
  'it logs once, when the last event was taken and committed). Both are started as users start them, B first, over loopback. ' +
  'End to end: from A\'s own "Agent a1 started" log line (its source starts generating and its sink connecting then, so the connection ' +
  'and the Avro handshake are counted) to B\'s "k1: N events consumed" line (one machine, one clock). CPU and RSS are the sums of A and B; ' +
  "each run's notes split them. MB/s counts the 100-byte bodies. ";

export const avroChain: Topology = {
  id: 'avro-chain',
  title: 'StressSource → memory → avro sink → avro source → memory → null, with and without deflate',
  async run(ctx) {
    const plain: Row = {
      id: 'avro-chain',
      title: `StressSource (${BODY} B) → memory → avro sink (batch ${BATCH}) → avro source → memory → null, two agents`,
      kind: 'throughput',
      ours: [],
      peer: [],
      peerLabel: '',
      target: { metric: 'eps', min: 300_000 },
      method:
        OUR_METHOD('none') +
        `Peer: syslog-ng → syslog-ng over loopback TCP with the same number of ${BODY}-byte messages. syslog-ng has no bulk in-process ` +
        'generator, so the harness plays StressSource: it renders the lines once and writes them in 1 MB pieces (next to no CPU per line) ' +
        "to syslog-ng A's network() source (flags(no-parse)); A sends them with a network() destination (transport tcp, " +
        'template("${MSG}\\n"), so each message crosses as its 100 bytes and a newline) to syslog-ng B, whose network() source ' +
        '(flags(no-parse)) hands them to a /dev/null file() destination; flow-control, log-fetch-limit(' +
        BATCH +
        '), ' +
        `log-fifo-size(${10 * BATCH}) like our channels, threaded(no) (faster than threaded(yes) with two syslog-ng processes on two ` +
        "cores; A reading a file() instead was slower too). Timed from the harness's first write to the first `syslog-ng-ctl stats` " +
        'poll of B (every 25 ms) showing every message processed by the destination. The work differs in two ways, one each way: ' +
        'A also parses its input into messages (our A generates events in-process), and syslog-ng streams messages with TCP as its ' +
        'only acknowledgement, while the avro sink waits for B to acknowledge each 1000-event appendBatch (after B committed it to its ' +
        'channel) before it commits its own transaction.',
      notes: [],
    };
    const deflate: Row = {
      id: 'avro-chain-deflate',
      title: `the same, compression-type = deflate on both ends`,
      kind: 'throughput',
      ours: [],
      peer: [],
      peerLabel: "no peer: syslog-ng's network() transport has no stream compression (only TLS, which is different work)",
      target: { metric: 'eps', min: 300_000 },
      method:
        OUR_METHOD('deflate') +
        'deflate: the whole connection is one zlib stream each way (level 6, the default). StressSource bodies are one repeated byte, ' +
        'so they compress far better than log lines would: zlib does less work per byte than with real text.',
      notes: [],
    };
    const tools = 'unavailable' in ctx.syslogNg ? undefined : ctx.syslogNg;
    let lines: Buffer | undefined;
    if (!tools) plain.peerLabel = `no peer: ${(ctx.syslogNg as { unavailable: string }).unavailable}`;
    else {
      lines = peerLines();
      plain.peerLabel =
        `syslog-ng ${tools.version} → syslog-ng: ${EVENTS.toLocaleString('en-US')} lines of ${BODY} B written to A's network() ` +
        "source → network() destination (tcp) → B's network() source → /dev/null, flow-control, two processes";
    }
    {
      for (let r = 1; r <= ctx.repeat; r++) {
        ctx.log(`avro chain: A → B, no compression, run ${r}/${ctx.repeat}`);
        plain.ours.push(await ctx.measure('throughput', () => runOurs(ctx, 'none', `avro-${r}`)));
        if (tools && lines) {
          ctx.log(`avro chain peer: syslog-ng → network → syslog-ng, run ${r}/${ctx.repeat}`);
          plain.peer.push(await ctx.measure('throughput', () => runPeer(tools, lines!)));
        }
        ctx.log(`avro chain: A → B, deflate, run ${r}/${ctx.repeat}`);
        deflate.ours.push(await ctx.measure('throughput', () => runOurs(ctx, 'deflate', `avro-deflate-${r}`)));
      }
    }
    return [plain, deflate];
  },
};
