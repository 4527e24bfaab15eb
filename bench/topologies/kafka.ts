import fs from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { tempDir } from '../../test/support/agent.js';
import { KCAT, kafkaToolsMissing, startKafkaMock, type KafkaMock } from '../../test/support/kafka/cluster.js';
import { startBenchAgent } from '../lib/flume.js';
import { writeLinesFile } from '../lib/files.js';
import { memoryOf, sleep, spawnTracked } from '../lib/proc.js';
import type { BenchContext, Row, Sample, Topology } from '../lib/types.js';

/** Value size of every record (StressSource bodies; kcat's input lines without their newline). */
const BODY = 100;
/**
 * Records per run, produced and consumed. librdkafka's mock keeps at most 5 MB (and
 * 100,000 records) per partition and drops the oldest beyond that: 150,000 records of
 * 100 bytes over 4 partitions are about 4.5 MB a partition, so the consumers find them all.
 */
const EVENTS = 150_000;
const BATCH = 1000;
/**
 * Partitions of each topic: the mock's auto-created topics have 4. (Topics made with
 * more partitions up front, through startKafkaMock's `topics`, start slowly: each
 * partition's leader assignment can take the mock a second.)
 */
const PARTITIONS = 4;
/** Per repetition: the topic our sink writes, and the one kcat writes and both consumers read. */
const ourTopic = (r: number): string => `bench-flume-${r}`;
const kcatTopic = (r: number): string => `bench-kcat-${r}`;
const RUN_TIMEOUT_MS = 60_000;

/** Consumer settings for librdkafka's mock (its joins wait for the session timeout of departed members). */
const CONSUMER = `a1.sources.r1.kafka.consumer.session.timeout.ms = 6000
a1.sources.r1.kafka.consumer.heartbeat.interval.ms = 500
a1.sources.r1.kafka.consumer.fetch.max.wait.ms = 500
a1.sources.r1.kafka.consumer.auto.offset.reset = earliest
`;

const MEMORY = `a1.channels.c1.type = memory
a1.channels.c1.capacity = ${10 * BATCH}
a1.channels.c1.transactionCapacity = ${BATCH}
`;

function sinkJob(bootstrap: string, topic: string): string {
  return `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = org.apache.flume.source.StressSource
a1.sources.r1.size = ${BODY}
a1.sources.r1.maxTotalEvents = ${EVENTS}
a1.sources.r1.batchSize = ${BATCH}
a1.sources.r1.channels = c1
${MEMORY}a1.sinks.k1.type = org.apache.flume.sink.kafka.KafkaSink
a1.sinks.k1.channel = c1
a1.sinks.k1.kafka.bootstrap.servers = ${bootstrap}
a1.sinks.k1.kafka.topic = ${topic}
a1.sinks.k1.flumeBatchSize = ${BATCH}
a1.sinks.k1.kafka.producer.acks = 1
`;
}

function sourceJob(bootstrap: string, topic: string, group: string): string {
  return `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = org.apache.flume.source.kafka.KafkaSource
a1.sources.r1.kafka.bootstrap.servers = ${bootstrap}
a1.sources.r1.kafka.topics = ${topic}
a1.sources.r1.kafka.consumer.group.id = ${group}
a1.sources.r1.batchSize = ${BATCH}
a1.sources.r1.channels = c1
${CONSUMER}${MEMORY}a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
a1.sinks.k1.batchSize = ${BATCH}
a1.sinks.k1.logEveryNEvents = ${EVENTS}
`;
}

/** Sum of the high watermarks of a topic's partitions: records the brokers acknowledged. */
async function highWatermark(admin: ReturnType<Kafka['admin']>, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((n, p) => n + Number(p.high), 0);
}

/** Records a topic still holds (high minus low watermarks): fewer than were written if the mock dropped old ones. */
async function retained(admin: ReturnType<Kafka['admin']>, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
}

/**
 * Our sink: StressSource → memory → Kafka sink. Timed from the agent's own "Agent a1
 * started" (its source starts generating and its producer connecting then) to the first
 * poll (every 10 ms, the harness asking the cluster for the partitions' high watermarks)
 * at which the topic holds every record. acks=1: a record counts once its leader has it.
 */
async function runSink(ctx: BenchContext, mock: KafkaMock, admin: ReturnType<Kafka['admin']>, topic: string, label: string): Promise<Sample> {
  const tmp = tempDir('flume-bench-');
  try {
    const before = await highWatermark(admin, topic);
    const a = await startBenchAgent(sinkJob(mock.bootstrap, topic), { dir: tmp.dir, profileDir: ctx.profileDir && path.join(ctx.profileDir, label) });
    try {
      const deadline = Date.now() + RUN_TIMEOUT_MS;
      let n = 0;
      while ((n = (await highWatermark(admin, topic)) - before) < EVENTS) {
        if (Date.now() > deadline) throw new Error(`the Kafka sink delivered ${n} of ${EVENTS} records in ${RUN_TIMEOUT_MS / 1000} s`);
        await sleep(10);
      }
      const end = Date.now();
      const mem = a.memory();
      // Anything beyond EVENTS arriving within a moment would be a duplicate (a batch sent twice).
      await sleep(200);
      const extra = (await highWatermark(admin, topic)) - before - EVENTS;
      return { events: EVENTS, seconds: (end - a.startedAtMs) / 1000, bytesPerEvent: BODY, ...mem, ...(extra > 0 ? { duplicated: extra } : {}) };
    } finally {
      await a.stop();
    }
  } finally {
    tmp.cleanup();
  }
}

/**
 * Our source: Kafka source (a consumer group member) → memory → null, reading the
 * EVENTS records kcat wrote. Timed from the source's own log line saying it joined the
 * group and was assigned the partitions (connecting and the group join, a fixed 3 s
 * against the mock, come before it; the notes give the time from agent start too) to the null sink's single "k1: N events consumed" line.
 */
async function runSource(ctx: BenchContext, mock: KafkaMock, topic: string, group: string, label: string): Promise<Sample> {
  const tmp = tempDir('flume-bench-');
  try {
    const a = await startBenchAgent(sourceJob(mock.bootstrap, topic, group), { dir: tmp.dir, profileDir: ctx.profileDir && path.join(ctx.profileDir, label) });
    try {
      const joined = await a.waitLog(/Kafka source r1: joined group/, 30_000);
      const done = await a.waitLog(new RegExp(`k1: (\\d+) events consumed`), RUN_TIMEOUT_MS);
      const consumed = Number(done.match[2]);
      return {
        events: EVENTS,
        seconds: (done.loggedAtMs - joined.loggedAtMs) / 1000,
        bytesPerEvent: BODY,
        ...a.memory(),
        ...(consumed > EVENTS ? { duplicated: consumed - EVENTS } : {}),
        notes: [
          `joined the group ${((joined.loggedAtMs - a.startedAtMs) / 1000).toFixed(3)} s after "Agent a1 started"; ` +
            `from agent start to the last event ${((done.loggedAtMs - a.startedAtMs) / 1000).toFixed(3)} s`,
        ],
      };
    } finally {
      await a.stop();
    }
  } finally {
    tmp.cleanup();
  }
}

/** Runs kcat to its end, timed from spawn to exit by the harness; its peak RSS and CPU are sampled every 10 ms. */
async function runKcat(args: string[], what: string, stdoutFd?: number): Promise<{ seconds: number; peakRssKb: number; rssKb: number; cpuSeconds: number }> {
  const t0 = Date.now();
  const p = spawnTracked(KCAT, args, stdoutFd === undefined ? {} : { stdio: ['ignore', stdoutFd, 'pipe'] });
  let mem = { peakRssKb: 0, rssKb: 0, cpuSeconds: 0 };
  let ended = false;
  const sampler = (async () => {
    while (!ended) {
      const m = memoryOf(p.pid);
      if (m.peakRssKb > 0) mem = m; // 0 once the process is gone
      await sleep(10);
    }
  })();
  const timer = setTimeout(() => void p.stop(), RUN_TIMEOUT_MS);
  const { code, atMs } = await p.exited;
  clearTimeout(timer);
  ended = true;
  await sampler;
  if (code !== 0) throw new Error(`${what}: kcat ${args.join(' ')} exited with ${code}:\n${p.output().slice(-2000)}`);
  return { seconds: (atMs - t0) / 1000, ...mem };
}

const KCAT_NOTE = "kcat's CPU time and peak RSS: its last /proc reading (taken every 10 ms while it ran)";

/**
 * kcat -P: the same N 100-byte records, one per line of a file, acks=1, librdkafka's
 * default batching. sticky.partitioning.linger.ms=0 spreads records without a key over the
 * partitions one by one (as kafkajs' partitioner does for our sink) instead of filling one
 * partition for a while, which overflows the mock's 5 MB per partition.
 */
async function runKcatProduce(mock: KafkaMock, topic: string, input: string): Promise<Sample> {
  const r = await runKcat(['-P', '-q', '-b', mock.bootstrap, '-t', topic, '-X', 'acks=1', '-X', 'sticky.partitioning.linger.ms=0', '-l', input], 'kcat -P');
  return { events: EVENTS, ...r, bytesPerEvent: BODY, notes: [KCAT_NOTE] };
}

/**
 * kcat -C: reads the N records from the beginning (no group: it assigns itself the
 * partitions), writing each value and a newline to a file, and exits after the N-th;
 * the file must then hold exactly N lines of 100 bytes.
 */
async function runKcatConsume(mock: KafkaMock, topic: string, out: string): Promise<Sample> {
  const fd = fs.openSync(out, 'w');
  let r: Awaited<ReturnType<typeof runKcat>>;
  try {
    r = await runKcat(['-C', '-q', '-b', mock.bootstrap, '-t', topic, '-o', 'beginning', '-c', String(EVENTS), '-f', '%s\\n'], 'kcat -C', fd);
  } finally {
    fs.closeSync(fd);
  }
  const size = fs.statSync(out).size;
  fs.rmSync(out, { force: true });
  if (size !== EVENTS * (BODY + 1)) throw new Error(`kcat -C wrote ${size} bytes, expected ${EVENTS * (BODY + 1)}`);
  return { events: EVENTS, ...r, bytesPerEvent: BODY, notes: [KCAT_NOTE] };
}

export const kafka: Topology = {
  id: 'kafka',
  title: 'StressSource → memory → Kafka sink; Kafka source → memory → null (librdkafka mock cluster)',
  async run(ctx) {
    const setup =
      `librdkafka's mock cluster (test/support/kafka/mock_cluster.c, one broker on loopback, in memory), one for the whole topology, with ` +
      `two new topics of ${PARTITIONS} partitions per repetition (created before the runs). N = ${EVENTS.toLocaleString('en-US')} records ` +
      'per run: the mock keeps at most 5 MB per partition and drops older records beyond that, and N records of 100 bytes are about ' +
      '4.5 MB a partition (the harness checks with the low and high watermarks that the topic the consumers read holds all N). Each ' +
      'repetition runs, in this order: our sink, kcat -P, our source, kcat -C. ';
    const sink: Row = {
      id: 'kafka-sink',
      title: `StressSource (${BODY} B, batch ${BATCH}) → memory → Kafka sink (acks=1) → librdkafka mock cluster`,
      kind: 'throughput',
      ours: [],
      peer: [],
      peerLabel: '',
      target: { metric: 'eps', min: 150_000 },
      method:
        setup +
        `Ours: \`org.apache.flume.source.StressSource\` (size=${BODY}, batchSize=${BATCH}, maxTotalEvents=${EVENTS.toLocaleString('en-US')}) → memory ` +
        `(capacity ${10 * BATCH}, transactionCapacity ${BATCH}) → Kafka sink (flumeBatchSize=${BATCH}, kafka.producer.acks=1; each transaction's ` +
        "records go out in one produce request and the transaction commits when the broker acknowledged them). Timed from the agent's own " +
        '"Agent a1 started" (its source starts generating and its producer connecting then) to the first 10 ms poll of the partitions\' high ' +
        'watermarks (the harness asks the cluster with a kafkajs admin client) at which the topic holds every record; a record beyond N within ' +
        '200 ms after would be counted as a duplicate. Peer (the practical limit of this cluster on this machine, not a competitor): ' +
        `\`kcat -P -X acks=1 -X sticky.partitioning.linger.ms=0 -l <file>\` producing the same N ${BODY}-byte records (the lines of a file in the page cache) with librdkafka's ` +
        'default batching (linger.ms 5, up to 10,000 records per batch; the sticky-partitioning setting makes it spread records without ' +
        'a key over the partitions one by one, as kafkajs does for our sink, instead of filling one partition at a time, which overflows ' +
        "the mock's 5 MB per partition), to another topic of the same cluster, timed by the harness from spawn to exit (kcat exits once every record was " +
        'acknowledged); its CPU and peak RSS are sampled every 10 ms while it runs. kcat takes about a tenth of a second for N records, so ' +
        'its figure includes its own start-up and connection and is a lower bound of its rate. The mock cluster runs on the same two cores ' +
        'in both cases.',
      notes: [],
    };
    const source: Row = {
      id: 'kafka-source',
      title: `librdkafka mock cluster → Kafka source (group, batch ${BATCH}) → memory → null`,
      kind: 'throughput',
      ours: [],
      peer: [],
      peerLabel: '',
      target: { metric: 'eps', min: 200_000 },
      method:
        setup +
        `Ours: Kafka source (batchSize=${BATCH}, consumer group of one, kafka.consumer.session.timeout.ms=6000, heartbeat.interval.ms=500, ` +
        'fetch.max.wait.ms=500, auto.offset.reset=earliest; offsets committed after each channel transaction) → memory (as above) → null ' +
        `(batchSize ${BATCH}, logEveryNEvents = N, so it logs once, when the last record was taken), reading the N ${BODY}-byte records kcat -P ` +
        'wrote in the same repetition. Timed with the agent\'s own log, from the source\'s "joined group …, assigned …" line (connecting and ' +
        "joining the group, a fixed 3 s against the mock, come before it; each run's notes give the time from agent start too) to the null sink's " +
        '"k1: N events consumed". Peer (the practical limit): `kcat -C -o beginning -c N` reading the same topic (without a group: it assigns ' +
        'itself every partition) and writing the values to a file, timed by the harness from spawn to exit (start-up and connection ' +
        'included: a lower bound of its rate, as for kcat -P).',
      notes: [],
    };
    const missing = kafkaToolsMissing();
    if (missing) {
      for (const r of [sink, source]) {
        r.peerLabel = `no peer: ${missing}`;
        r.notes.push(`not run: ${missing}`);
      }
      return [sink, source];
    }
    sink.peerLabel = `kcat -P (librdkafka ${librdkafkaVersion()}), the same N records of ${BODY} B, acks=1, to the same cluster — the practical limit, not a competitor`;
    source.peerLabel = `kcat -C (librdkafka ${librdkafkaVersion()}) reading the same N records from the same cluster — the practical limit, not a competitor`;

    const tmp = tempDir('flume-bench-kafka-');
    const mock = await startKafkaMock();
    const admin = new Kafka({ clientId: 'flume-bench', brokers: mock.brokers, logLevel: logLevel.NOTHING }).admin();
    try {
      await admin.connect();
      // Asking for the topics' metadata makes the mock create them (4 partitions each), so no run waits for that.
      const topics = Array.from({ length: ctx.repeat }, (_, i) => [ourTopic(i + 1), kcatTopic(i + 1)]).flat();
      const meta = await admin.fetchTopicMetadata({ topics });
      for (const t of meta.topics) {
        if (t.partitions.length !== PARTITIONS) throw new Error(`the mock made ${t.name} with ${t.partitions.length} partitions, expected ${PARTITIONS}`);
      }
      const input = path.join(tmp.dir, 'records.txt');
      writeLinesFile(input, EVENTS, BODY);
      for (let r = 1; r <= ctx.repeat; r++) {
        ctx.log(`kafka: StressSource → memory → Kafka sink, run ${r}/${ctx.repeat}`);
        sink.ours.push(await ctx.measure('throughput', () => runSink(ctx, mock, admin, ourTopic(r), `kafka-sink-${r}`)));
        ctx.log(`kafka: kcat -P, run ${r}/${ctx.repeat}`);
        sink.peer.push(await ctx.measure('throughput', () => runKcatProduce(mock, kcatTopic(r), input)));
        const got = await highWatermark(admin, kcatTopic(r));
        const kept = await retained(admin, kcatTopic(r));
        if (got !== EVENTS || kept !== EVENTS) {
          throw new Error(`kcat -P wrote ${got} records to ${kcatTopic(r)} and the mock kept ${kept}, expected ${EVENTS}`);
        }
        ctx.log(`kafka: Kafka source → memory → null, run ${r}/${ctx.repeat}`);
        source.ours.push(await ctx.measure('throughput', () => runSource(ctx, mock, kcatTopic(r), `bench-${r}`, `kafka-source-${r}`)));
        ctx.log(`kafka: kcat -C, run ${r}/${ctx.repeat}`);
        source.peer.push(await ctx.measure('throughput', () => runKcatConsume(mock, kcatTopic(r), path.join(tmp.dir, 'consumed.txt'))));
      }
    } finally {
      await admin.disconnect().catch(() => {});
      await mock.stop();
      tmp.cleanup();
    }
    return [sink, source];
  },
};

function librdkafkaVersion(): string {
  try {
    const out = fs.readFileSync('/var/lib/dpkg/status', 'utf8');
    return out.match(/^Package: librdkafka1\n(?:[^\n]+\n)*?Version: (\S+)/m)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
