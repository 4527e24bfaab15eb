// The jms source against a real ActiveMQ (Debian's activemq) over STOMP on its auto
// port, fed and drained by stomp.py (Debian python3-stomp): queues, selectors, durable
// topic subscriptions, a broker restart, oversize messages and refused logins.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { eventually, jobText, spawnFlume, startAgent, tempDir, writeJob, ROOT } from '../support/agent.js';
import { AMQ_PASSWORD, AMQ_USER, startBroker, type Broker } from '../support/jms/broker.js';

let broker: Broker;
before(async () => {
  broker = await startBroker();
});
after(async () => {
  await broker?.cleanup();
});

function jmsJob(
  dir: string,
  out: string,
  src: Record<string, string | number | boolean>,
  channel: Record<string, string | number | boolean> = { type: 'memory', capacity: 20000, transactionCapacity: 1000 },
): string {
  const pw = path.join(dir, 'amq.password');
  fs.writeFileSync(pw, `${AMQ_PASSWORD}\n`);
  return jobText({
    sources: { r1: { type: 'jms', providerURL: `tcp://127.0.0.1:${broker.port}`, userName: AMQ_USER, passwordFile: pw, channels: 'c1', ...src } },
    channels: { c1: channel },
    sinks: { k1: { type: 'file_roll', 'sink.directory': out, 'sink.rollInterval': 0, 'sink.serializer': 'header_and_text', channel: 'c1' } },
  });
}

/** The lines the sink wrote: `{color=red, seq=4} msg-4`. */
function lines(out: string): string[] {
  const text = fs
    .readdirSync(out)
    .sort()
    .map((f) => fs.readFileSync(path.join(out, f), 'utf8'))
    .join('');
  return text.split('\n').filter(Boolean);
}
const bodyOf = (l: string): string => l.slice(l.indexOf('} ') + 2);

test('jms: a queue of 5,000 messages arrives once each and the queue is left empty', async () => {
  const t = tempDir();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  broker.send('/queue/orders', 5000);
  const agent = await startAgent(jmsJob(t.dir, out, { destinationName: 'orders', destinationType: 'QUEUE', batchSize: 500 }), { dir: t.dir });
  try {
    await eventually(() => lines(out).length >= 5000, 60_000, 'all 5,000 messages');
    assert.equal(await agent.stop(), 0);
    const got = lines(out).map(bodyOf);
    assert.equal(got.length, 5000);
    assert.deepEqual(new Set(got), new Set(Array.from({ length: 5000 }, (_, i) => `msg-${i}`)));
    // Properties arrived as headers, JMS/STOMP headers did not.
    assert.match(lines(out)[0]!, /^\{(color=(red|blue), seq=\d+|seq=\d+, color=(red|blue))\} msg-\d+$/);
    assert.deepEqual(broker.drain('/queue/orders', 1), [], 'every message was acknowledged');
  } finally {
    await agent.stop();
    t.cleanup();
  }
});

test('jms: a selector takes only the matching half, the other half stays on the queue', async () => {
  const t = tempDir();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  broker.send('/queue/colors', 200);
  const agent = await startAgent(jmsJob(t.dir, out, { destinationName: 'colors', destinationType: 'queue', messageSelector: "color = 'red'" }), { dir: t.dir });
  try {
    await eventually(() => lines(out).length >= 100, 30_000, 'the 100 red messages');
    assert.equal(await agent.stop(), 0);
    const got = lines(out);
    assert.equal(got.length, 100);
    for (const l of got) assert.match(l, /color=red/);
    const left = broker.drain('/queue/colors');
    assert.equal(left.length, 100);
    for (const m of left) assert.equal(m.headers.color, 'blue');
  } finally {
    await agent.stop();
    t.cleanup();
  }
});

test('jms: a durable topic subscription keeps messages sent while the agent is down', async () => {
  const t = tempDir();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  const job = jmsJob(t.dir, out, { destinationName: 'news', destinationType: 'TOPIC', createDurableSubscription: true, clientId: 'flume-a1', durableSubscriptionName: 'news-a1' });
  let agent = await startAgent(job, { dir: t.dir });
  try {
    await eventually(() => agent.stderr().includes('Agent a1 started'), 5000);
    broker.send('/topic/news', 50);
    await eventually(() => lines(out).length >= 50, 30_000, 'the first 50');
    assert.equal(await agent.stop(), 0);
    broker.send('/topic/news', 50, { from: 50 });
    agent = await startAgent(job, { dir: t.dir });
    await eventually(() => lines(out).length >= 100, 30_000, 'the 50 sent while the agent was down');
    assert.equal(await agent.stop(), 0);
    assert.deepEqual(lines(out).map(bodyOf).sort(), Array.from({ length: 100 }, (_, i) => `msg-${i}`).sort());
  } finally {
    await agent.stop();
    t.cleanup();
  }
});

test('jms: a broker restart mid-stream loses nothing; the source reconnects and says so once', async () => {
  const t = tempDir();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  broker.send('/queue/restart', 3000, { size: 200 });
  // A small channel and batch slow the agent down, so the restart lands mid-stream.
  const agent = await startAgent(jmsJob(t.dir, out, { destinationName: 'restart', destinationType: 'QUEUE', batchSize: 10 }), { dir: t.dir });
  try {
    await eventually(() => lines(out).length >= 100, 30_000, 'delivery to begin');
    await broker.restart();
    broker.send('/queue/restart', 500, { from: 3000 });
    await eventually(() => new Set(lines(out).map(bodyOf)).size >= 3500, 90_000, 'every message, after the restart');
    const got = lines(out).map(bodyOf);
    const seqs = new Set(got.map((b) => Number(/^msg-(\d+)/.exec(b)![1])));
    assert.equal(seqs.size, 3500);
    for (let i = 0; i < 3500; i++) assert.ok(seqs.has(i), `msg-${i}`);
    const dupes = got.length - seqs.size;
    console.log(`jms broker restart: ${got.length} lines for 3500 messages (${dupes} redelivered)`);
    const err = agent.stderr();
    assert.equal(err.match(/connection to the broker lost/g)?.length, 1, err);
    assert.match(err, /connected to the broker again/);
    assert.equal(await agent.stop(), 0);
  } finally {
    await agent.stop();
    t.cleanup();
  }
});

test('jms: an oversize message is refused to the dead-letter queue and the rest flow; bytes and charsets kept', async () => {
  const t = tempDir();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  broker.send('/queue/mixed', 3, { bytes: true });
  broker.send('/queue/mixed', 1, { from: 3, size: 5000, bytes: true });
  broker.send('/queue/mixed', 3, { from: 4 });
  const agent = await startAgent(jmsJob(t.dir, out, { destinationName: 'mixed', destinationType: 'QUEUE', maxMessageBytes: 4096 }), { dir: t.dir });
  try {
    await eventually(() => lines(out).length >= 6, 30_000, 'the six small messages');
    assert.equal(await agent.stop(), 0);
    assert.deepEqual(lines(out).map(bodyOf).sort(), ['msg-0', 'msg-1', 'msg-2', 'msg-4', 'msg-5', 'msg-6']);
    assert.match(agent.stderr(), /larger than maxMessageBytes \(4096\); refused/);
    const dlq = await eventually(
      () => {
        const d = broker.drain('/queue/ActiveMQ.DLQ', 1);
        return d.length > 0 ? d : undefined;
      },
      20_000,
      'the DLQ',
    );
    assert.equal(dlq!.length, 1);
    assert.match(dlq![0]!.body, /^msg-3-x+$/);
  } finally {
    await agent.stop();
    t.cleanup();
  }
});

test('jms: a refused login stops the agent with a clear error, never showing the password', async () => {
  const t = tempDir();
  const pw = path.join(t.dir, 'wrong.password');
  fs.writeFileSync(pw, 'Wr0ng-Pa55word-zz9\n');
  const file = writeJob(
    t.dir,
    jobText({
      sources: { r1: { type: 'jms', providerURL: `tcp://127.0.0.1:${broker.port}`, destinationName: 'q', destinationType: 'QUEUE', userName: AMQ_USER, passwordFile: pw, channels: 'c1' } },
      channels: { c1: { type: 'memory' } },
      sinks: { k1: { type: 'null', channel: 'c1' } },
    }),
  );
  try {
    const agent = spawnFlume(['agent', '-n', 'a1', '-f', file, '-c', path.join(ROOT, 'conf'), '-Dflume.root.logger=DEBUG,console']);
    assert.equal(await agent.exited, 1);
    const all = agent.stdout() + agent.stderr();
    assert.match(
      all,
      /flume-ng: agent a1 not started: .*a1\.sources\.r1\.providerURL: the broker at tcp:\/\/127\.0\.0\.1:\d+ refused the connection: .*check userName and the password in passwordFile/,
    );
    assert.doesNotMatch(all, /Wr0ng-Pa55word-zz9/);
  } finally {
    t.cleanup();
  }
});

test('jms: a port that speaks OpenWire only is named, with the connector to add', async () => {
  const t = tempDir();
  const file = writeJob(
    t.dir,
    jobText({
      sources: { r1: { type: 'jms', providerURL: `tcp://127.0.0.1:${broker.openwirePort}`, destinationName: 'q', destinationType: 'QUEUE', channels: 'c1' } },
      channels: { c1: { type: 'memory' } },
      sinks: { k1: { type: 'null', channel: 'c1' } },
    }),
  );
  try {
    const agent = spawnFlume(['agent', '-n', 'a1', '-f', file, '-c', path.join(ROOT, 'conf'), '-Dflume.root.logger=INFO,console']);
    assert.equal(await agent.exited, 1);
    assert.match(agent.stderr(), /must accept STOMP on that port: add <transportConnector name="auto" uri="auto:\/\/0\.0\.0\.0:61616"\/>/);
  } finally {
    t.cleanup();
  }
});

test('jms: ssl:// with a truststore reads over TLS; an untrusted broker certificate is refused', async () => {
  const t = tempDir();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  broker.send('/queue/secure', 20);
  const job = (trust: Record<string, string>) => jmsJob(t.dir, out, { providerURL: `ssl://127.0.0.1:${broker.sslPort}`, destinationName: 'secure', destinationType: 'QUEUE', ...trust });
  try {
    // Without a truststore the self-signed certificate is not trusted: the agent says so and keeps retrying.
    const untrusted = await startAgent(job({}), { dir: t.dir });
    await untrusted.waitFor(/JMS source r1: cannot reach the broker at ssl:\/\/127\.0\.0\.1:\d+: .*(self-signed|certificate)/, 20_000);
    assert.equal(lines(out).length, 0);
    assert.equal(await untrusted.stop(), 0, untrusted.stderr());
    const agent = await startAgent(job({ truststore: broker.certFile }), { dir: t.dir });
    await eventually(() => lines(out).length >= 20, 30_000, 'the 20 messages over TLS');
    assert.equal(await agent.stop(), 0);
    assert.deepEqual(lines(out).map(bodyOf).sort(), Array.from({ length: 20 }, (_, i) => `msg-${i}`).sort());
  } finally {
    t.cleanup();
  }
});

test('jms: kill -9 of the agent mid-stream with a file channel loses nothing: unacknowledged messages come back', async () => {
  const t = tempDir();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  broker.send('/queue/crash', 3000);
  const fileChannel = { type: 'file', checkpointDir: path.join(t.dir, 'cp'), dataDirs: path.join(t.dir, 'data'), transactionCapacity: 1000 };
  const job = jmsJob(t.dir, out, { destinationName: 'crash', destinationType: 'QUEUE', batchSize: 50 }, fileChannel);
  let agent = await startAgent(job, { dir: t.dir });
  try {
    await eventually(() => lines(out).length >= 300, 30_000, 'delivery to begin');
    agent.proc.kill('SIGKILL');
    await agent.exited;
    agent = await startAgent(job, { dir: t.dir });
    await eventually(() => new Set(lines(out).map(bodyOf)).size >= 3000, 60_000, 'every message after the restart');
    assert.equal(await agent.stop(), 0);
    const got = lines(out).map(bodyOf);
    assert.deepEqual(new Set(got), new Set(Array.from({ length: 3000 }, (_, i) => `msg-${i}`)));
    console.log(`jms kill -9: ${got.length} lines for 3000 messages (${got.length - 3000} delivered twice)`);
    assert.deepEqual(broker.drain('/queue/crash', 1), [], 'every message acknowledged in the end');
  } finally {
    await agent.stop();
    t.cleanup();
  }
});

test('jms: converter.type names a converter plugin, configured by converter.*; an unknown one is refused', async () => {
  const t = tempDir();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  broker.send('/queue/convert', 20);
  const plugin = path.join(ROOT, 'test', 'support', 'plugins', 'jms-converter');
  const job = jmsJob(t.dir, out, { destinationName: 'convert', destinationType: 'QUEUE', 'converter.type': 'com.example.UpperCaseConverter', 'converter.tag': 'yes' });
  const agent = await startAgent(job, { dir: t.dir, extraArgs: ['--plugins-path', plugin] });
  try {
    // Even seq: red, converted; odd: blue, no event; seq 7 refused to the DLQ.
    await eventually(() => lines(out).length >= 10, 30_000, 'the ten red messages');
    assert.equal(await agent.stop(), 0);
    const got = lines(out).sort();
    assert.deepEqual(got, Array.from({ length: 10 }, (_, i) => `{seq=${2 * i}, converted=yes, text=true} MSG-${2 * i}`).sort());
    assert.match(agent.stderr(), /converter com\.example\.UpperCaseConverter refused message .*seven is refused/);
    assert.deepEqual(broker.drain('/queue/convert', 1), [], 'blue messages were acknowledged, not left');
    const dlq = broker.drain('/queue/ActiveMQ.DLQ', 1).map((m) => m.body);
    assert.ok(dlq.includes('msg-7'), dlq.join());
    const bad = spawnFlume(['validate', '-f', writeJob(t.dir, job.replace('com.example.UpperCaseConverter', 'com.example.Nope'), 'bad.conf')]);
    assert.equal(await bad.exited, 1);
    assert.match(bad.stdout(), /a1\.sources\.r1\.converter\.type: unknown JMS message converter "com\.example\.Nope"/);
  } finally {
    await agent.stop();
    t.cleanup();
  }
});
