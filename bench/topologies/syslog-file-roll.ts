import fs from 'node:fs';
import path from 'node:path';
import { freePort, tempDir } from '../../test/support/agent.js';
import { startBenchAgent } from '../lib/flume.js';
import { checkLoggenOutput, dirBytes } from '../lib/files.js';
import { memoryOf, sleep } from '../lib/proc.js';
import { runLoggen, startSyslogNg, type SyslogNgTools } from '../lib/syslog-ng.js';
import type { BenchContext, Row, Sample, Topology } from '../lib/types.js';

/** loggen message size, newline included. */
const LINE = 200;
/** What both daemons drop of each line: `<38>` + the 19-character timestamp + ` localhost `. */
const HEADER = 4 + 19 + 1 + 'localhost'.length + 1;
/** Lines per run, sent on two connections. */
const LINES = 2_000_000;
const CONNECTIONS = 2;
const MAX_SECONDS = 120;
const STALL_MS = 3000;
const BATCH = 1000;

/**
 * Runs loggen against `port` and times until `outDir` holds every line (as written
 * by the daemon: the message without its syslog header), then checks each sequence
 * number once.
 */
async function feedAndMeasure(tools: SyslogNgTools, port: number, outDir: string, pid: number, stop: () => Promise<void>): Promise<Sample> {
  const want = LINES * (LINE - HEADER);
  const t0 = Date.now();
  const gen = runLoggen(tools, { port, size: LINE, count: LINES / CONNECTIONS, maxSeconds: MAX_SECONDS, connections: CONNECTIONS });
  let genDone = false;
  void gen.then(
    () => (genDone = true),
    () => (genDone = true),
  );
  let bytes = 0;
  let lastGrowth = t0;
  let reachedAt: number | undefined;
  const deadline = t0 + (MAX_SECONDS + 30) * 1000;
  for (;;) {
    const now = Date.now();
    const b = dirBytes(outDir);
    if (b !== bytes) {
      bytes = b;
      lastGrowth = now;
    }
    if (bytes >= want) {
      reachedAt = now;
      break;
    }
    if ((genDone && now - lastGrowth > STALL_MS) || now > deadline) break;
    await sleep(10);
  }
  const end = reachedAt ?? lastGrowth;
  const mem = memoryOf(pid);
  const g = await gen;
  if (g.sent !== LINES) throw new Error(`loggen sent ${g.sent} lines, not ${LINES}: ${g.summary}`);
  await stop();
  const check = checkLoggenOutput(outDir, g.sent, CONNECTIONS);
  const notes = [`loggen: ${g.summary.replace(/^average rate = /, '')}`];
  if (check.foreign) notes.push(`${check.foreign} unexpected line(s)`);
  return {
    events: check.lines - check.foreign - check.duplicated,
    seconds: (end - t0) / 1000,
    bytesPerEvent: LINE,
    ...mem,
    lost: check.missing,
    duplicated: check.duplicated,
    notes,
  };
}

function ourJob(port: number, outDir: string): string {
  return `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = syslogtcp
a1.sources.r1.host = 127.0.0.1
a1.sources.r1.port = ${port}
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = 100000
a1.channels.c1.transactionCapacity = 10000
a1.sinks.k1.type = file_roll
a1.sinks.k1.channel = c1
a1.sinks.k1.sink.directory = ${outDir}
a1.sinks.k1.sink.batchSize = ${BATCH}
`;
}

/** syslog-ng parses each message (the default syslog parser) and writes its header-less text, as file_roll writes our bodies. */
const PEER_CONF = (port: number, file: string): string => `
options { stats-freq(0); threaded(yes); flush-lines(${BATCH}); log-fifo-size(100000); keep-hostname(yes); };
source s_net { network(ip("127.0.0.1") port(${port}) transport("tcp") log-iw-size(100000) log-fetch-limit(${BATCH}) max-connections(10)); };
destination d_file { file("${file}" template("\${MSGHDR}\${MSG}\\n")); };
log { source(s_net); destination(d_file); flags(flow-control); };
`;

async function runOurs(ctx: BenchContext, tools: SyslogNgTools, r: number): Promise<Sample> {
  const tmp = tempDir('flume-bench-syslog-');
  try {
    const outDir = path.join(tmp.dir, 'out');
    fs.mkdirSync(outDir);
    const port = await freePort();
    const a = await startBenchAgent(ourJob(port, outDir), { dir: tmp.dir, profileDir: ctx.profileDir && path.join(ctx.profileDir, `syslogtcp-${r}`) });
    try {
      return await feedAndMeasure(tools, port, outDir, a.pid, () => a.stop());
    } finally {
      await a.stop();
    }
  } finally {
    tmp.cleanup();
  }
}

async function runPeer(tools: SyslogNgTools): Promise<Sample> {
  const tmp = tempDir('flume-bench-sng-syslog-');
  try {
    const outDir = path.join(tmp.dir, 'out');
    fs.mkdirSync(outDir);
    const port = await freePort();
    const s = await startSyslogNg(tools, tmp.dir, PEER_CONF(port, path.join(outDir, 'lines.log')));
    try {
      return await feedAndMeasure(tools, port, outDir, s.pid, () => s.stop());
    } finally {
      await s.stop();
    }
  } finally {
    tmp.cleanup();
  }
}

export const syslogFileRoll: Topology = {
  id: 'syslogtcp-memory-file_roll',
  title: 'syslog over TCP → syslogtcp → memory → file_roll',
  async run(ctx) {
    const row: Row = {
      id: 'syslogtcp-memory-file_roll',
      title: `loggen syslog TCP (${LINE} B messages, ${CONNECTIONS} connections) → syslogtcp → memory → file_roll`,
      kind: 'throughput',
      ours: [],
      peer: [],
      peerLabel: '',
      target: { metric: 'eps-vs-peer', minRatio: 1 },
      method:
        `syslog-ng's loggen sends ${LINES.toLocaleString('en-US')} syslog messages of ${LINE} bytes (\`<38>2024-01-01T00:00:00 localhost ` +
        'prg00000[1234]: seq: ...`, newline-framed), half on each of two TCP connections, as fast as it can. Both daemons parse every ' +
        'message (priority, timestamp, host) and write its text without the syslog header, one line each. Our agent: syslogtcp → memory ' +
        `(capacity 100000, transactionCapacity 10000) → file_roll (sink.batchSize ${BATCH}, TEXT serializer: the body, i.e. ` +
        '`prg00000[1234]: seq: ...`). Peer: syslog-ng network() tcp source with its default syslog parser → file() with ' +
        'template("${MSGHDR}${MSG}\\n") (the same text), flow-control on. Time: from loggen\'s start to the first 10 ms poll at which ' +
        "the output holds every line; then every line's sequence number is checked (lost, duplicated).",
      notes: [],
    };
    if ('unavailable' in ctx.syslogNg) {
      row.peerLabel = `no peer and no load: ${ctx.syslogNg.unavailable}`;
      row.notes.push('not run: loggen (syslog-ng-core) is the load generator');
      return [row];
    }
    const tools = ctx.syslogNg;
    row.peerLabel = `syslog-ng ${tools.version}: network(tcp) with syslog parsing → file, flow-control, on the same loggen stream`;
    for (let r = 1; r <= ctx.repeat; r++) {
      ctx.log(`loggen → syslogtcp → memory → file_roll: our agent, run ${r}/${ctx.repeat}`);
      row.ours.push(await ctx.measure('throughput', () => runOurs(ctx, tools, r)));
      ctx.log(`loggen → syslog-ng network (parsed) → file, run ${r}/${ctx.repeat}`);
      row.peer.push(await ctx.measure('throughput', () => runPeer(tools)));
    }
    return [row];
  },
};
