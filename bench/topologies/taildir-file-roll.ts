import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../test/support/agent.js';
import { startBenchAgent } from '../lib/flume.js';
import { dirBytes, writeLinesFile } from '../lib/files.js';
import { cpuSecondsOf, memoryOf, sleep } from '../lib/proc.js';
import { startSyslogNg, type SyslogNgTools } from '../lib/syslog-ng.js';
import type { BenchContext, Row, Sample, Topology } from '../lib/types.js';

/** Lines in the file, each LINE bytes with its newline. */
const LINES = 1_000_000;
const LINE = 100;
const BATCH = 10_000;
const MAX_SECONDS = 120;

function ourJob(logs: string, out: string, posFile: string): string {
  return `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = TAILDIR
a1.sources.r1.filegroups = f1
a1.sources.r1.filegroups.f1 = ${logs}/app\\\\.log
a1.sources.r1.positionFile = ${posFile}
a1.sources.r1.batchSize = ${BATCH}
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = ${10 * BATCH}
a1.channels.c1.transactionCapacity = ${BATCH}
a1.sinks.k1.type = file_roll
a1.sinks.k1.channel = c1
a1.sinks.k1.sink.directory = ${out}
a1.sinks.k1.sink.rollInterval = 0
a1.sinks.k1.sink.batchSize = ${BATCH}
`;
}

/** Polls (every 10 ms) until `dir` holds `want` bytes; the time it did, or undefined after MAX_SECONDS. */
async function filled(dir: string, want: number): Promise<number | undefined> {
  const deadline = Date.now() + MAX_SECONDS * 1000;
  while (Date.now() < deadline) {
    if (dirBytes(dir) >= want) return Date.now();
    await sleep(10);
  }
  return undefined;
}

/**
 * Our agent tails a file of LINES lines that is already written (and in the page
 * cache), through memory, into file_roll. Timed from the agent's own "Agent a1
 * started" timestamp to the first 10 ms poll at which the output holds every byte.
 * CPU is the agent's user + system time from that log line to the end.
 */
async function runOurs(ctx: BenchContext, input: string, label: string): Promise<Sample> {
  const tmp = tempDir('flume-bench-taildir-');
  try {
    const logs = path.join(tmp.dir, 'logs');
    const out = path.join(tmp.dir, 'out');
    fs.mkdirSync(logs);
    fs.mkdirSync(out);
    fs.copyFileSync(input, path.join(logs, 'app.log'));
    const a = await startBenchAgent(ourJob(logs, out, path.join(tmp.dir, 'pos.json')), { dir: tmp.dir, profileDir: ctx.profileDir && path.join(ctx.profileDir, label) });
    const cpu0 = cpuSecondsOf(a.pid);
    try {
      const end = await filled(out, LINES * LINE);
      const mem = memoryOf(a.pid);
      const written = dirBytes(out);
      return {
        events: Math.floor(written / LINE),
        seconds: ((end ?? Date.now()) - a.startedAtMs) / 1000,
        bytesPerEvent: LINE,
        ...mem,
        cpuSeconds: mem.cpuSeconds - cpu0,
        lost: LINES - Math.floor(written / LINE),
        notes: end ? [] : [`only ${written} of ${LINES * LINE} bytes after ${MAX_SECONDS} s`],
      };
    } finally {
      await a.stop();
    }
  } finally {
    tmp.cleanup();
  }
}

const PEER_CONF = (input: string, out: string): string => `
options { stats-freq(0); threaded(yes); flush-lines(${BATCH}); log-fifo-size(100000); };
source s_file { file("${input}" flags(no-parse) follow-freq(1) log-iw-size(100000) log-fetch-limit(${BATCH})); };
destination d_file { file("${out}" template("\${MSG}\\n")); };
log { source(s_file); destination(d_file); flags(flow-control); };
`;

/** syslog-ng follows the same file into a file, timed from its "starting up" message to the output holding every byte. */
async function runPeer(tools: SyslogNgTools, input: string): Promise<Sample> {
  const tmp = tempDir('flume-bench-taildir-sng-');
  try {
    const out = path.join(tmp.dir, 'out');
    fs.mkdirSync(out);
    const copy = path.join(tmp.dir, 'app.log');
    fs.copyFileSync(input, copy);
    const s = await startSyslogNg(tools, tmp.dir, PEER_CONF(copy, path.join(out, 'lines.log')));
    try {
      const end = await filled(out, LINES * LINE);
      const written = dirBytes(out);
      return {
        events: Math.floor(written / LINE),
        seconds: ((end ?? Date.now()) - s.startedAtMs) / 1000,
        bytesPerEvent: LINE,
        ...memoryOf(s.pid),
        lost: LINES - Math.floor(written / LINE),
      };
    } finally {
      await s.stop();
    }
  } finally {
    tmp.cleanup();
  }
}

export const taildirFileRoll: Topology = {
  id: 'taildir-memory-file_roll',
  title: 'TAILDIR → memory → file_roll',
  async run(ctx) {
    const row: Row = {
      id: 'taildir-memory-file_roll',
      title: `TAILDIR (one file of ${LINES.toLocaleString('en-US')} lines of ${LINE} B, already written) → memory → file_roll`,
      kind: 'throughput',
      ours: [],
      peer: [],
      peerLabel: '',
      target: { metric: 'eps', min: 1_800_000 },
      method:
        `Our agent: TAILDIR (batchSize ${BATCH}, one file group matching app.log) → memory (capacity ${10 * BATCH}, transactionCapacity ${BATCH}) → ` +
        `file_roll (sink.batchSize ${BATCH}, rollInterval 0, TEXT serializer). The file is written before the agent starts. Time: from the agent's own ` +
        '"Agent a1 started" log timestamp to the first 10 ms poll at which the output holds every byte; CPU µs/event is the agent\'s user + system ' +
        'time from that moment to the end, divided by the lines. Java Flume 1.11 TAILDIR measured 1.17 M lines/s on this machine (issue 10). ' +
        'Peer: syslog-ng file() source (flags(no-parse), log-fetch-limit, threaded) following the same file into a file() destination with ' +
        'template("${MSG}\\n"), flow-control; timed from its "starting up" message to the output holding every byte.',
      notes: [],
    };
    const tools = 'unavailable' in ctx.syslogNg ? undefined : ctx.syslogNg;
    row.peerLabel = tools ? `syslog-ng ${tools.version}: file() source → file() destination` : `no peer: ${(ctx.syslogNg as { unavailable: string }).unavailable}`;
    const t = tempDir('flume-bench-taildir-in-');
    try {
      const input = path.join(t.dir, 'app.log');
      writeLinesFile(input, LINES, LINE - 1);
      for (let r = 1; r <= ctx.repeat; r++) {
        ctx.log(`TAILDIR → memory → file_roll: our agent, run ${r}/${ctx.repeat}`);
        row.ours.push(await ctx.measure('throughput', () => runOurs(ctx, input, `taildir-${r}`)));
        if (tools) {
          ctx.log(`TAILDIR → memory → file_roll: syslog-ng file → file, run ${r}/${ctx.repeat}`);
          row.peer.push(await ctx.measure('throughput', () => runPeer(tools, input)));
        }
      }
    } finally {
      t.cleanup();
    }
    return [row];
  },
};
