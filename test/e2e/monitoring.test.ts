// Monitoring of a running agent, read from outside as an operator's scraper would:
// Flume's JSON at /metrics (the shape captured from Java Flume 1.11), Prometheus text
// agreeing with it, /health flipping with a sink's downstream, and Ganglia packets
// read back from a real gmond (Debian ganglia-monitor).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ROOT, eventually, freePort, jobText, netcatJob, spawnFlume, startAgent, tcpExchange, tempDir, writeJob } from '../support/agent.js';
import { kcatProduceRaw, kcatRaw, withKafka } from './kafka-support.js';

async function get(port: number, p: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`, { method });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

// The attribute sets of Java Flume 1.11's JSON, from shared reference captures.
const CHANNEL_ATTRS = [
  'ChannelCapacity',
  'ChannelFillPercentage',
  'ChannelSize',
  'EventPutAttemptCount',
  'EventPutSuccessCount',
  'EventTakeAttemptCount',
  'EventTakeSuccessCount',
  'StartTime',
  'StopTime',
  'Type',
];
const SINK_ATTRS = [
  'BatchCompleteCount',
  'BatchEmptyCount',
  'BatchUnderflowCount',
  'ChannelReadFail',
  'ConnectionClosedCount',
  'ConnectionCreatedCount',
  'ConnectionFailedCount',
  'EventDrainAttemptCount',
  'EventDrainSuccessCount',
  'EventWriteFail',
  'StartTime',
  'StopTime',
  'Type',
];
const SOURCE_ATTRS = [
  'AppendAcceptedCount',
  'AppendBatchAcceptedCount',
  'AppendBatchReceivedCount',
  'AppendReceivedCount',
  'ChannelWriteFail',
  'EventAcceptedCount',
  'EventReadFail',
  'EventReceivedCount',
  'GenericProcessingFail',
  'OpenConnectionCount',
  'StartTime',
  'StopTime',
  'Type',
];

/** Prometheus text → { 'name{labels}': value }. */
function parsePrometheus(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-z_:][a-z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    assert.ok(m, `not a Prometheus sample line: ${line}`);
    out.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return out;
}

test("monitoring http: /metrics is Flume's JSON, counts every event sent, and Prometheus agrees", async () => {
  const t = tempDir();
  const port = await freePort();
  const mport = await freePort();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  const agent = await startAgent(netcatJob(port, { type: 'file_roll', 'sink.directory': out, 'sink.rollInterval': 0 }, { channel: { capacity: 5000 } }), {
    dir: t.dir,
    extraArgs: ['-Dflume.monitoring.type=http', `-Dflume.monitoring.port=${mport}`, '-Dflume.monitoring.bind=127.0.0.1'],
  });
  try {
    const n = 1234;
    const lines = Array.from({ length: n }, (_, i) => `line ${i}\n`).join('');
    assert.equal(await tcpExchange(port, lines, { expectBytes: 3 * n }), 'OK\n'.repeat(n));
    await eventually(() => fs.readdirSync(out).reduce((a, f) => a + fs.readFileSync(path.join(out, f)).length, 0) === Buffer.byteLength(lines), 10_000, 'file written');

    const m = (await eventually(
      async () => {
        const r = await get(mport, '/metrics');
        const j = JSON.parse(r.body) as Record<string, Record<string, string>>;
        return j['SINK.k1']?.EventDrainSuccessCount === String(n) ? { r, j } : undefined;
      },
      10_000,
      'the sink counter to reach every event',
    ))!;
    assert.equal(m.r.status, 200);
    assert.equal(m.r.type, 'application/json;charset=utf-8');
    const j = m.j;
    assert.deepEqual(Object.keys(j).sort(), ['CHANNEL.c1', 'CHANNEL_PROCESSOR.r1', 'SINK.k1', 'SOURCE.r1']);
    for (const group of Object.values(j)) for (const v of Object.values(group)) assert.equal(typeof v, 'string');
    assert.deepEqual(Object.keys(j['CHANNEL.c1']!).sort(), CHANNEL_ATTRS);
    assert.deepEqual(Object.keys(j['SINK.k1']!).sort(), SINK_ATTRS);
    assert.deepEqual(Object.keys(j['SOURCE.r1']!).sort(), SOURCE_ATTRS);
    const c = j['CHANNEL.c1']!;
    assert.equal(c.Type, 'CHANNEL');
    assert.equal(c.ChannelCapacity, '5000');
    assert.equal(c.ChannelSize, '0');
    assert.equal(c.ChannelFillPercentage, '0.0');
    assert.equal(c.EventPutSuccessCount, String(n));
    assert.equal(c.EventTakeSuccessCount, String(n));
    assert.equal(c.StopTime, '0');
    assert.match(c.StartTime!, /^\d{13}$/);
    assert.equal(j['SOURCE.r1']!.EventAcceptedCount, String(n));
    assert.equal(j['SOURCE.r1']!.EventReceivedCount, String(n));
    assert.equal(j['CHANNEL_PROCESSOR.r1']!.InterceptorDropCount, '0');

    const p = await get(mport, '/prometheus');
    assert.equal(p.status, 200);
    assert.match(p.type, /^text\/plain/);
    const prom = parsePrometheus(p.body);
    const lbl = (type: string, comp: string): string => `{agent="a1",type="${type}",component="${comp}"}`;
    assert.equal(prom.get(`flume_event_put_success_total${lbl('CHANNEL', 'c1')}`), n);
    assert.equal(prom.get(`flume_event_drain_success_total${lbl('SINK', 'k1')}`), n);
    assert.equal(prom.get(`flume_event_accepted_total${lbl('SOURCE', 'r1')}`), n);
    assert.equal(prom.get(`flume_channel_capacity${lbl('CHANNEL', 'c1')}`), 5000);
    assert.equal(prom.get(`flume_channel_size${lbl('CHANNEL', 'c1')}`), 0);
    assert.match(p.body, /# TYPE flume_event_put_success_total counter/);
    assert.match(p.body, /# TYPE flume_channel_size gauge/);
    // Every JSON number has its Prometheus sample with the same value.
    for (const [key, attrs] of Object.entries(j)) {
      const [type, comp] = key.split('.') as [string, string];
      for (const [attr, v] of Object.entries(attrs)) {
        if (attr === 'Type' || attr === 'StartTime' || attr === 'StopTime') continue;
        const sample = [...prom.entries()].find(
          ([k]) =>
            k.endsWith(lbl(type, comp)) &&
            k.startsWith(
              `flume_${attr
                .replace(/Count$/, '')
                .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
                .toLowerCase()}`,
            ),
        );
        assert.ok(sample, `no Prometheus sample for ${key}.${attr}`);
        assert.equal(sample[1], Number(v), `${key}.${attr}`);
      }
    }

    const home = await get(mport, '/');
    assert.equal(home.status, 200);
    assert.match(home.body, /href = "\.\/metrics"/);
    assert.equal((await get(mport, '/nothing')).status, 404);
    assert.equal((await get(mport, '/metrics', 'OPTIONS')).status, 403);
    const h = await get(mport, '/health');
    assert.equal(h.status, 200);
    assert.equal((JSON.parse(h.body) as { status: string }).status, 'UP');
  } finally {
    assert.equal(await agent.stop(), 0);
    t.cleanup();
  }
});

test('monitoring: flume.monitoring.* set in the job file; type prometheus serves Prometheus text at /metrics', async () => {
  const t = tempDir();
  const mport = await freePort();
  const job =
    jobText({
      sources: { r1: { type: 'seq', totalEvents: 500, channels: 'c1' } },
      channels: { c1: { type: 'memory', capacity: 1000 } },
      sinks: { k1: { type: 'null', channel: 'c1' } },
    }) + `flume.monitoring.type = prometheus\nflume.monitoring.port = ${mport}\nflume.monitoring.bind = 127.0.0.1\n`;
  const agent = await startAgent(job, { dir: t.dir });
  try {
    const prom = (await eventually(
      async () => {
        const r = await get(mport, '/metrics');
        const p = parsePrometheus(r.body);
        return p.get('flume_event_drain_success_total{agent="a1",type="SINK",component="k1"}') === 500 ? r : undefined;
      },
      10_000,
      'all 500 events counted',
    ))!;
    assert.match(prom.type, /^text\/plain/);
  } finally {
    assert.equal(await agent.stop(), 0);
    t.cleanup();
  }
});

test('monitoring: /health turns 503 naming the sink while its downstream is gone, and UP again once it delivers', async () => {
  const t = tempDir();
  const down = await freePort();
  const nport = await freePort();
  const mport = await freePort();
  const downstreamJob = jobText(
    {
      sources: { r1: { type: 'avro', bind: '127.0.0.1', port: down, channels: 'c1' } },
      channels: { c1: { type: 'memory' } },
      sinks: { k1: { type: 'null', channel: 'c1' } },
    },
    'b1',
  );
  const startDownstream = async () => startAgent(downstreamJob, { name: 'b1', dir: fs.mkdtempSync(path.join(t.dir, 'b-')) });
  let b = await startDownstream();
  const a = await startAgent(netcatJob(nport, { type: 'avro', hostname: '127.0.0.1', port: down }), {
    dir: t.dir,
    extraArgs: ['-Dflume.monitoring.type=http', `-Dflume.monitoring.port=${mport}`, '-Dflume.monitoring.bind=127.0.0.1'],
  });
  const health = async () => {
    const r = await get(mport, '/health');
    return { status: r.status, body: JSON.parse(r.body) as { status: string; components: Record<string, { status: string; error?: string }> } };
  };
  try {
    assert.equal(await tcpExchange(nport, 'one\n', { expectBytes: 3 }), 'OK\n');
    await eventually(async () => (await health()).status === 200, 10_000, 'healthy');
    await b.stop();
    assert.equal(await tcpExchange(nport, 'two\n', { expectBytes: 3 }), 'OK\n');
    const bad = (await eventually(
      async () => {
        const h = await health();
        return h.status === 503 ? h : undefined;
      },
      15_000,
      '503',
    ))!;
    assert.equal(bad.body.status, 'DOWN');
    assert.equal(bad.body.components['SINK_RUNNER.k1']!.status, 'DOWN');
    assert.ok(bad.body.components['SINK_RUNNER.k1']!.error, 'the sink error is reported');
    b = await startDownstream();
    await eventually(async () => (await health()).status === 200, 20_000, 'healthy again after the retry delivered');
  } finally {
    assert.equal(await a.stop(), 0);
    await b.stop();
    t.cleanup();
  }
});

test('monitoring ganglia: a real gmond receives flume.<TYPE>.<name>.<Attribute> metrics in group flume', async () => {
  const t = tempDir();
  const udp = await freePort();
  const tcp = await freePort();
  const conf = path.join(t.dir, 'gmond.conf');
  fs.writeFileSync(
    conf,
    `globals {
  daemonize = no
  setuid = no
  user = root
  debug_level = 0
  max_udp_msg_len = 1472
  mute = no
  deaf = no
  host_dmax = 0
  cleanup_threshold = 300
  gexec = no
  send_metadata_interval = 0
}
cluster { name = "flume-test" }
udp_recv_channel { bind = 127.0.0.1
  port = ${udp} }
tcp_accept_channel { bind = 127.0.0.1
  port = ${tcp} }
`,
  );
  const gmond = spawn('/usr/sbin/gmond', ['-c', conf, '-f'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let gout = '';
  gmond.stdout.on('data', (d: Buffer) => (gout += d));
  gmond.stderr.on('data', (d: Buffer) => (gout += d));
  const agent = await startAgent(
    jobText({
      sources: { r1: { type: 'seq', totalEvents: 300, channels: 'c1' } },
      channels: { c1: { type: 'memory', capacity: 1000 } },
      sinks: { k1: { type: 'null', channel: 'c1' } },
    }),
    { dir: t.dir, extraArgs: ['-Dflume.monitoring.type=ganglia', `-Dflume.monitoring.hosts=127.0.0.1:${udp}`, '-Dflume.monitoring.pollFrequency=1'] },
  );
  const dump = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const s = net.connect(tcp, '127.0.0.1');
      let xml = '';
      s.setEncoding('utf8')
        .on('data', (d: string) => (xml += d))
        .on('end', () => resolve(xml))
        .on('error', reject);
    });
  try {
    const xml = (await eventually(
      async () => {
        const x = await dump();
        return /NAME="flume\.SINK\.k1\.EventDrainSuccessCount" VAL="300"/.test(x) ? x : undefined;
      },
      20_000,
      `gmond to show the sink's count (gmond said: ${gout})`,
    ))!;
    const metric = /<METRIC NAME="flume\.CHANNEL\.c1\.ChannelCapacity" VAL="1000" TYPE="float"[^>]*>([\s\S]*?)<\/METRIC>/.exec(xml);
    assert.ok(metric, 'ChannelCapacity as a float');
    assert.match(metric[1]!, /<EXTRA_ELEMENT NAME="GROUP" VAL="flume"\/>/);
    assert.match(xml, /NAME="flume\.CHANNEL\.c1\.Type" VAL="CHANNEL" TYPE="string"/);
    assert.match(xml, /NAME="flume\.CHANNEL\.c1\.ChannelFillPercentage" VAL="0\.0" TYPE="float"/);
  } finally {
    assert.equal(await agent.stop(), 0);
    gmond.kill('SIGKILL');
    t.cleanup();
  }
});

test("monitoring: the Kafka source, channel and sink serve Flume's Kafka counters and timers", async () => {
  await withKafka(
    {
      topics: [
        { name: 'in', partitions: 1 },
        { name: 'chan', partitions: 1 },
        { name: 'out', partitions: 1 },
      ],
    },
    async (k) => {
      const mport = await freePort();
      const job = jobText({
        sources: {
          r1: {
            type: 'org.apache.flume.source.kafka.KafkaSource',
            'kafka.bootstrap.servers': k.bootstrap,
            'kafka.topics': 'in',
            'kafka.consumer.auto.offset.reset': 'earliest',
            batchDurationMillis: 200,
            setTopicHeader: false,
            channels: 'c1',
          },
        },
        channels: { c1: { type: 'org.apache.flume.channel.kafka.KafkaChannel', 'kafka.bootstrap.servers': k.bootstrap, 'kafka.topic': 'chan' } },
        sinks: { k1: { type: 'org.apache.flume.sink.kafka.KafkaSink', 'kafka.bootstrap.servers': k.bootstrap, 'kafka.topic': 'out', channel: 'c1' } },
      });
      await k.start(job, { extraArgs: ['-Dflume.monitoring.type=http', `-Dflume.monitoring.port=${mport}`, '-Dflume.monitoring.bind=127.0.0.1'] });
      await kcatProduceRaw(
        k.bootstrap,
        'in',
        Array.from({ length: 30 }, (_, i) => Buffer.from(`m${i}`)),
        { dir: k.tempDir() },
      );
      const j = (await eventually(
        async () => {
          const m = JSON.parse((await get(mport, '/metrics')).body) as Record<string, Record<string, string>>;
          return m['SINK.k1']?.EventDrainSuccessCount === '30' && Number(m['SOURCE.r1']?.KafkaEmptyCount) > 0 ? m : undefined;
        },
        30_000,
        'every record through, and an empty fetch',
      ))!;
      for (const a of ['KafkaEventGetTimer', 'KafkaCommitTimer', 'KafkaEmptyCount']) assert.match(j['SOURCE.r1']![a] ?? '', /^\d+$/, `SOURCE.r1.${a}`);
      for (const a of ['KafkaEventGetTimer', 'KafkaEventSendTimer', 'KafkaCommitTimer', 'RollbackCount']) assert.match(j['CHANNEL.c1']![a] ?? '', /^\d+$/, `CHANNEL.c1.${a}`);
      for (const a of ['KafkaEventSendTimer', 'RollbackCount']) assert.match(j['SINK.k1']![a] ?? '', /^\d+$/, `SINK.k1.${a}`);
      assert.ok(Number(j['SOURCE.r1']!.KafkaEventGetTimer) > 0, 'fetches take time (batchDurationMillis on an empty topic)');
      assert.equal(j['SINK.k1']!.RollbackCount, '0');
      assert.equal((await kcatRaw(k.bootstrap, 'out', 30)).length, 30);
    },
  );
});

test('monitoring: a reporter plugin named by flume.monitoring.type gets the running agent; an unknown type is refused', async () => {
  const t = tempDir();
  const file = path.join(t.dir, 'counters.json');
  const plugin = path.join(ROOT, 'test', 'support', 'plugins', 'file-reporter');
  const job = jobText({
    sources: { r1: { type: 'seq', totalEvents: 250, channels: 'c1' } },
    channels: { c1: { type: 'memory', capacity: 1000 } },
    sinks: { k1: { type: 'null', channel: 'c1' } },
  });
  const agent = await startAgent(job, { dir: t.dir, extraArgs: ['--plugins-path', plugin, '-Dflume.monitoring.type=com.example.FileReporter', `-Dflume.monitoring.file=${file}`] });
  try {
    await eventually(
      () => {
        const j = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, Record<string, number>>;
        return j['SINK.k1']?.EventDrainSuccessCount === 250 && j['SOURCE.r1']?.EventAcceptedCount === 250;
      },
      10_000,
      'the plugin to report every event',
    );
    assert.match(agent.stderr(), /Monitoring: counters to /);
  } finally {
    assert.equal(await agent.stop(), 0);
  }
  try {
    const bad = spawnFlume(['agent', '-n', 'a1', '-f', writeJob(t.dir, job), '-Dflume.monitoring.type=gangila', '-Dflume.monitoring.hosts=127.0.0.1:1']);
    assert.equal(await bad.exited, 1);
    assert.match(bad.stderr(), /flume\.monitoring\.type: unknown reporter "gangila" \(did you mean "ganglia"\?\)/);
    const noHosts = spawnFlume(['agent', '-n', 'a1', '-f', writeJob(t.dir, job), '-Dflume.monitoring.type=ganglia']);
    assert.equal(await noHosts.exited, 1);
    assert.match(noHosts.stderr(), /flume\.monitoring\.hosts is required/);
  } finally {
    t.cleanup();
  }
});
