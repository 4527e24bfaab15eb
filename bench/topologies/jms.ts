import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync, writeFileSync } from 'node:fs';
import { tempDir } from '../../test/support/agent.js';
import { AMQ_PASSWORD, AMQ_USER, startBroker, type Broker } from '../../test/support/jms/broker.js';
import { startBenchAgent } from '../lib/flume.js';
import { memoryOf, sleep, spawnTracked } from '../lib/proc.js';
import type { BenchContext, Row, Sample, Topology } from '../lib/types.js';

const BODY = 100;
const EVENTS = 30_000;
const BATCH = 500;
const CONSUMER = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'lib', 'stomp-consumer.js');

function job(port: number, queue: string, pwFile: string): string {
  return `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = jms
a1.sources.r1.providerURL = tcp://127.0.0.1:${port}
a1.sources.r1.destinationName = ${queue}
a1.sources.r1.destinationType = QUEUE
a1.sources.r1.userName = ${AMQ_USER}
a1.sources.r1.passwordFile = ${pwFile}
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

/** Ours: jms → memory → null over the queue, from "Agent a1 started" to the null sink's "N events consumed". */
async function runOurs(ctx: BenchContext, broker: Broker, queue: string, label: string): Promise<Sample> {
  const tmp = tempDir('flume-bench-');
  try {
    const pw = path.join(tmp.dir, 'pw');
    writeFileSync(pw, AMQ_PASSWORD);
    const a = await startBenchAgent(job(broker.port, queue, pw), { dir: tmp.dir, profileDir: ctx.profileDir && path.join(ctx.profileDir, label) });
    try {
      const done = await a.waitLog(/k1: (\d+) events consumed/, 120_000);
      return { events: EVENTS, seconds: (done.loggedAtMs - a.startedAtMs) / 1000, bytesPerEvent: BODY, ...a.memory() };
    } finally {
      await a.stop();
    }
  } finally {
    tmp.cleanup();
  }
}

/** The peer: the bare consumer process, timed from its CONNECTED to its last ACK. */
async function runBare(broker: Broker, queue: string): Promise<Sample> {
  const p = spawnTracked(process.execPath, [CONSUMER, String(broker.port), queue, String(EVENTS), AMQ_USER, AMQ_PASSWORD, String(2 * BATCH)]);
  let mem = { peakRssKb: 0, rssKb: 0, cpuSeconds: 0 };
  let ended = false;
  void p.exited.then(() => (ended = true));
  while (!ended) {
    try {
      mem = memoryOf(p.pid);
    } catch {
      // gone
    }
    await sleep(10);
  }
  if ((await p.exited).code !== 0) throw new Error(`the bare STOMP consumer failed: ${p.output()}`);
  return { events: EVENTS, seconds: Number(p.output().trim()), bytesPerEvent: BODY, ...mem };
}

export const jms: Topology = {
  id: 'jms-memory-null',
  title: `JMS queue (ActiveMQ over STOMP) → memory → null, ${BODY}-byte messages`,
  async run(ctx: BenchContext): Promise<Row[]> {
    const row: Row = {
      id: 'jms-memory-null',
      title: this.title,
      kind: 'throughput',
      ours: [],
      peer: [],
      peerLabel: 'a bare STOMP consumer (the same frame codec, ACK per message, the same prefetch, no channel) reading the same queue',
      target: { metric: 'eps-vs-peer', minRatio: 0.8 },
      method:
        `${EVENTS} persistent messages of ${BODY} B are put on a queue by stomp.py before each run; ours is timed from "Agent a1 started" to the null sink's line for the last event, ` +
        'the peer from its CONNECTED to its last ACK. Debian ActiveMQ 5.17 on loopback, started once for the row.',
      notes: [],
    };
    if (!existsSync('/usr/share/activemq/bin/activemq.jar')) {
      row.peerLabel = 'no peer: Debian activemq is not installed';
      row.notes.push('not run: activemq missing');
      return [row];
    }
    const broker = await startBroker();
    try {
      for (let r = 0; r < ctx.repeat; r++) {
        broker.send(`/queue/bench-ours-${r}`, EVENTS, { size: BODY });
        row.ours.push(await ctx.measure('throughput', () => runOurs(ctx, broker, `bench-ours-${r}`, `jms-${r}`)));
        broker.send(`/queue/bench-bare-${r}`, EVENTS, { size: BODY });
        row.peer.push(await ctx.measure('throughput', () => runBare(broker, `bench-bare-${r}`)));
      }
    } finally {
      await broker.cleanup();
    }
    return [row];
  },
};
