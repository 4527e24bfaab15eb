import path from 'node:path';
import { Agent, request } from 'undici';
import { tempDir } from '../../test/support/agent.js';
import { WebHdfsServer } from '../../test/support/webhdfs/server.js';
import { startBenchAgent } from '../lib/flume.js';
import { memoryOf, sleep } from '../lib/proc.js';
import type { BenchContext, Row, Sample, Topology } from '../lib/types.js';

const BODY = 1024;
const BATCH = 1000;
const EVENTS = 300_000;
/** What the text serializer writes per event: the body and a newline. */
const LINE = BODY + 1;

function job(url: string): string {
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
a1.sinks.k1.type = hdfs
a1.sinks.k1.channel = c1
a1.sinks.k1.hdfs.path = hdfs://bench:8020/bench
a1.sinks.k1.hdfs.webhdfs.url = ${url}
a1.sinks.k1.hdfs.fileType = DataStream
a1.sinks.k1.hdfs.batchSize = ${BATCH}
a1.sinks.k1.hdfs.rollInterval = 0
a1.sinks.k1.hdfs.rollCount = 0
a1.sinks.k1.hdfs.rollSize = ${128 * 1024 * 1024}
`;
}

/** Waits until the server's datanode received `bytes`; returns when (ms), or throws after `timeoutMs`. */
async function waitBytes(server: WebHdfsServer, bytes: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (server.bytesIn < bytes) {
    if (Date.now() > deadline) throw new Error(`the WebHDFS server got ${server.bytesIn} of ${bytes} bytes in ${timeoutMs} ms`);
    await sleep(5);
  }
  return Date.now();
}

async function runOurs(ctx: BenchContext, label: string): Promise<Sample> {
  const server = await WebHdfsServer.start();
  const tmp = tempDir('flume-bench-');
  try {
    const a = await startBenchAgent(job(server.url), { dir: tmp.dir, profileDir: ctx.profileDir && path.join(ctx.profileDir, label) });
    try {
      const end = await waitBytes(server, EVENTS * LINE, 300_000);
      const mem = a.memory();
      const s = (end - a.startedAtMs) / 1000;
      return { events: EVENTS, seconds: s, bytesPerEvent: BODY, ...mem, notes: [`${((mem.cpuSeconds * 1e6) / EVENTS).toFixed(2)} CPU µs per event (agent process, start included)`] };
    } finally {
      await a.stop();
    }
  } finally {
    await server.stop();
    tmp.cleanup();
  }
}

/**
 * The server's ceiling: a bare undici client in the harness writes the same bytes the
 * agent does, in the same calls (CREATE, then one APPEND per 1,000-event batch, each
 * two-step), as fast as the server takes them.
 */
async function runCeiling(): Promise<Sample> {
  const server = await WebHdfsServer.start();
  const agent = new Agent({ keepAliveTimeout: 30_000 });
  try {
    const batch = Buffer.alloc(BATCH * LINE, 0x61);
    const t0 = Date.now();
    for (let i = 0; i < EVENTS / BATCH; i++) {
      const op = i === 0 ? 'CREATE' : 'APPEND';
      const method = i === 0 ? 'PUT' : 'POST';
      const r1 = await request(`${server.url}/webhdfs/v1/ceiling/file?op=${op}&user.name=bench${i === 0 ? '&overwrite=false' : ''}`, { method, dispatcher: agent });
      await r1.body.dump();
      const r2 = await request(String(r1.headers.location), { method, body: batch, dispatcher: agent });
      await r2.body.dump();
      if (r2.statusCode >= 300) throw new Error(`${op}: HTTP ${r2.statusCode}`);
    }
    const s = (Date.now() - t0) / 1000;
    return { events: EVENTS, seconds: s, bytesPerEvent: BODY, ...memoryOf(process.pid) };
  } finally {
    await agent.close();
    await server.stop();
  }
}

export const hdfs: Topology = {
  id: 'stress-memory-hdfs',
  title: 'StressSource → memory → hdfs (WebHDFS test server)',
  async run(ctx) {
    const row: Row = {
      id: 'stress-memory-hdfs',
      title: `StressSource (${BODY} B bodies, batch ${BATCH}) → memory → hdfs DataStream over WebHDFS (loopback test server)`,
      kind: 'throughput',
      ours: [],
      peer: [],
      peerLabel: `the WebHDFS test server's ceiling: a bare undici client in the harness writing the same ${EVENTS.toLocaleString('en-US')} × ${LINE} bytes in the same calls (CREATE, then an APPEND per ${BATCH}-event batch, each with its 307 redirect)`,
      target: { metric: 'eps', min: Math.ceil((100 * 1024 * 1024) / BODY) },
      method:
        `Our agent: StressSource (size=${BODY}, batchSize=${BATCH}, maxTotalEvents=${EVENTS.toLocaleString('en-US')}; seq's bodies are decimal counters, so it cannot make 1 KB bodies) → ` +
        `memory (transactionCapacity ${BATCH}) → hdfs (fileType DataStream, hdfs.batchSize ${BATCH}, text serializer, rollSize 128 MB) writing to the WebHDFS test server ` +
        '(test/support/webhdfs, run in the harness process, files in a temp directory). Time: from the agent\'s "Agent a1 started" log line to the moment the server\'s ' +
        'datanode has received every byte (polled every 5 ms). MB/s counts the 1 KB bodies. The ceiling row runs the same calls from a bare client, so the gap between ' +
        "the two is the agent's own cost. CPU µs per event is the agent process's CPU time over the run divided by the events.",
      notes: [],
    };
    for (let r = 1; r <= ctx.repeat; r++) {
      ctx.log(`stress → memory → hdfs: our agent, run ${r}/${ctx.repeat}`);
      row.ours.push(await ctx.measure('throughput', () => runOurs(ctx, `hdfs-${r}`)));
      ctx.log(`WebHDFS test server ceiling, run ${r}/${ctx.repeat}`);
      row.peer.push(await ctx.measure('throughput', () => runCeiling()));
    }
    return [row];
  },
};
