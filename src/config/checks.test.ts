import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { builtinRegistry } from '../builtins.js';
import { defineSink } from '../core/component.js';
import { opt } from '../core/options.js';
import { Context } from '../core/context.js';
import { AvailabilitySignal } from '../core/channel.js';
import { formatDiagnostic, type Diagnostic } from './diagnostics.js';
import { loadJob, MAX_JOB_FILE_BYTES, readJobFile } from './load.js';
import type { Registry } from '../registry/registry.js';
import type { AgentPlan } from './plan.js';

/** Loads `text` as job.conf for agent a1; returns the plan, the formatted lines and the file name. */
function load(text: string, registry: Registry = builtinRegistry()): { plan: AgentPlan | undefined; diags: Diagnostic[]; lines: string[]; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-ts-checks-'));
  const file = path.join(dir, 'job.conf');
  fs.writeFileSync(file, text);
  try {
    const { plan, diagnostics } = loadJob([file], 'a1', registry);
    return { plan, diags: diagnostics, lines: diagnostics.map(formatDiagnostic), file };
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
}

function has(lines: string[], re: RegExp): string {
  const l = lines.find((x) => re.test(x));
  assert.ok(l, `${re} not in:\n${lines.join('\n')}`);
  return l;
}

/** seq -> c1 (memory) -> null, plus `extra` lines. */
const SEQ = `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = seq
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
`;

// ---- 5. durations -----------------------------------------------------------

test('a duration above its maximum is an error naming the key, the maximum and its unit', () => {
  const { plan, lines, file } = load(
    `${SEQ}a1.sinks.k2.type = file_roll
a1.sinks.k2.channel = c1
a1.sinks.k2.sink.directory = /tmp
a1.sinks.k2.sink.rollInterval = 99999999999
`.replace('a1.sinks = k1', 'a1.sinks = k1 k2'),
  );
  assert.equal(plan, undefined);
  has(lines, new RegExp(`^${file}:12: error: a1\\.sinks\\.k2\\.sink\\.rollInterval: expected a value of at most 31536000 s \\(365 days\\), got "99999999999"`));
});

test('every duration the issue reported is bounded: request-timeout, keep-alive, restartThrottle', () => {
  const { lines } = load(`a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = exec
a1.sources.r1.command = cat
a1.sources.r1.restartThrottle = 99999999999
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.keep-alive = 3000000
a1.sinks.k1.type = avro
a1.sinks.k1.hostname = localhost
a1.sinks.k1.port = 4545
a1.sinks.k1.request-timeout = 3000000000
a1.sinks.k1.channel = c1
`);
  has(lines, /:6: error: a1\.sources\.r1\.restartThrottle: expected a value of at most 31536000000 ms \(365 days\)/);
  has(lines, /:9: error: a1\.channels\.c1\.keep-alive: expected a value of at most 86400 s \(1 day\)/);
  has(lines, /:13: error: a1\.sinks\.k1\.request-timeout: expected a value of at most 86400000 ms \(1 day\)/);
});

test('a duration of 30 days (past one Node timer) is accepted', () => {
  const { plan, diags } = load(`${SEQ.replace('type = seq', 'type = exec\na1.sources.r1.command = cat')}a1.sources.r1.restartThrottle = 2592000000\na1.sources.r1.batchSize = 1\n`);
  assert.ok(plan, diags.map(formatDiagnostic).join('\n'));
});

test('a channel wait longer than one Node timer neither fires early nor outlives its notify', async () => {
  const signal = new AvailabilitySignal();
  let done = false;
  const waiting = signal.wait(2 ** 31 + 1000).then(() => (done = true));
  // A plain setTimeout of this length fires after 1 ms; give it ample time to.
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(done, false, 'the wait ended long before its time');
  signal.notify();
  await waiting;
  assert.equal(done, true);
});

// ---- 6. batch sizes ------------------------------------------------------------

test("a source batch larger than its channel's transactionCapacity is an error with both keys and values", () => {
  const { plan, lines, file } = load(`${SEQ}a1.sources.r1.batchSize = 500\n`);
  assert.equal(plan, undefined);
  has(lines, new RegExp(`^${file}:9: error: a1\\.sources\\.r1\\.batchSize \\(500\\) is larger than a1\\.channels\\.c1\\.transactionCapacity \\(100\\)`));
});

test('a sink batch larger than transactionCapacity is an error; each bound channel is checked; aliases are named as written', () => {
  const text = `a1.sources = r1
a1.channels = c1 c2
a1.sinks = k1 k2
a1.sources.r1.type = exec
a1.sources.r1.command = cat
a1.sources.r1.channels = c1 c2
a1.channels.c1.type = memory
a1.channels.c1.capacity = 1000
a1.channels.c1.transactionCapacity = 1000
a1.channels.c2.type = memory
a1.channels.c2.transactionCapacity = 10
a1.sinks.k1.type = file_roll
a1.sinks.k1.sink.directory = /tmp
a1.sinks.k1.batchSize = 200
a1.sinks.k1.channel = c2
a1.sinks.k2.type = avro
a1.sinks.k2.hostname = localhost
a1.sinks.k2.port = 4545
a1.sinks.k2.channel = c1
`;
  const { plan, lines, diags } = load(text);
  assert.equal(plan, undefined);
  // exec's default batchSize (20) is over c2's 10 but not c1's 1000: one error, at c2's transactionCapacity.
  has(lines, /:11: error: a1\.sources\.r1\.batchSize \(20\) is larger than a1\.channels\.c2\.transactionCapacity \(10\)/);
  has(lines, /:14: error: a1\.sinks\.k1\.batchSize \(200\) is larger than a1\.channels\.c2\.transactionCapacity \(10\)/);
  assert.equal(diags.filter((d) => /is larger than/.test(d.message)).length, 2, lines.join('\n'));
});

test('a channel without transactionCapacity (Kafka) is not checked', () => {
  const { plan, diags } = load(
    `${SEQ.replace('a1.channels.c1.type = memory', 'a1.channels.c1.type = org.apache.flume.channel.kafka.KafkaChannel\na1.channels.c1.kafka.bootstrap.servers = localhost:9092')}a1.sources.r1.batchSize = 5000\n`,
  );
  assert.ok(plan, diags.map(formatDiagnostic).join('\n'));
});

// ---- 7. silently accepted values -------------------------------------------------

test('an integer beyond a safe number or the declared max is an error', () => {
  const { lines } = load(`${SEQ}a1.channels.c1.capacity = 99999999999999999999\na1.sources.r1.totalEvents = 99999999999999999999\n`);
  has(lines, /:9: error: a1\.channels\.c1\.capacity: expected a value of at most 2147483647, got "99999999999999999999"/);
  has(lines, /:10: error: a1\.sources\.r1\.totalEvents: expected an integer no larger than 9007199254740991 in magnitude/);
  assert.throws(() => new Context({ x: '99999999999999999999' }).getInteger('x'), /no larger than/);
});

test('the same name twice in a list is a warning; a source listing a channel twice puts into it once', () => {
  const { plan, lines } = load(SEQ.replace('a1.sources = r1', 'a1.sources = r1 r1').replace('a1.sources.r1.channels = c1', 'a1.sources.r1.channels = c1 c1'));
  assert.ok(plan);
  has(lines, /:1: warning: a1\.sources lists "r1" more than once; it is one source/);
  has(lines, /:5: warning: a1\.sources\.r1\.channels lists "c1" more than once/);
  assert.deepEqual(plan.sources[0]!.channels, ['c1']);
});

test('a sink listed twice in its group is a warning, not "already belongs to" its own group', () => {
  const { plan, lines } = load(`${SEQ.replace('a1.sinks = k1', 'a1.sinks = k1 k2\na1.sinkgroups = g1')}a1.sinks.k2.type = null
a1.sinks.k2.channel = c1
a1.sinkgroups.g1.sinks = k1 k2 k1
a1.sinkgroups.g1.processor.type = failover
`);
  assert.ok(plan, lines.join('\n'));
  has(lines, /:12: warning: a1\.sinkgroups\.g1\.sinks lists "k1" more than once; it is one sink/);
  assert.deepEqual(plan.sinkgroups[0]!.sinks, ['k1', 'k2']);
});

test('a key set twice is a warning naming both lines; the later value wins', () => {
  const { plan, lines } = load(`${SEQ}a1.channels.c1.capacity = 500\na1.channels.c1.capacity = 700\n`);
  assert.ok(plan);
  has(lines, /:10: warning: a1\.channels\.c1\.capacity is set again \(first at line 9\); the later value, at line 10, is used/);
  assert.equal(plan.channels[0]!.options.capacity, 700);
});

test("syntax notes about other agents' keys are not reported for this agent", () => {
  const { plan, diags } = load(`${SEQ}a2.sources.x.command = tail -F f //note\na2.sources.x.command = again\n`);
  assert.ok(plan);
  assert.deepEqual(diags, []);
});

const TWO_SOURCES = (r1: string, r2: string): string => `a1.sources = r1 r2
a1.channels = c1
a1.sinks = k1
${r1}
a1.sources.r1.channels = c1
${r2}
a1.sources.r2.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
`;
const src = (name: string, type: string, bind: string, port: number): string => `a1.sources.${name}.type = ${type}\na1.sources.${name}.bind = ${bind}\na1.sources.${name}.port = ${port}`;

test('two sources on one port are an error naming both; tcp and udp, other addresses and port 0 do not clash', () => {
  const clash = load(TWO_SOURCES(src('r1', 'netcat', 'localhost', 5140), src('r2', 'avro', '0.0.0.0', 5140)));
  assert.equal(clash.plan, undefined);
  has(
    clash.lines,
    new RegExp(
      `^${clash.file}:10: error: a1\\.sources\\.r2\\.port: tcp port 5140 on 0\\.0\\.0\\.0 is also where source "r1" listens \\(a1\\.sources\\.r1\\.port at ${clash.file}:6, bind localhost\\)`,
    ),
  );
  assert.ok(load(TWO_SOURCES(src('r1', 'thrift', '127.0.0.1', 5140), src('r2', 'netcat', '127.0.0.1', 5140))).lines.some((l) => /tcp port 5140/.test(l)));
  for (const [a, b] of [
    [src('r1', 'netcat', '127.0.0.1', 5140), src('r2', 'netcatudp', '127.0.0.1', 5140)],
    [src('r1', 'netcat', '127.0.0.1', 5140), src('r2', 'netcat', '127.0.0.2', 5140)],
    [src('r1', 'netcat', '127.0.0.1', 0), src('r2', 'netcat', '127.0.0.1', 0)],
  ] as const) {
    const r = load(TWO_SOURCES(a, b));
    assert.ok(r.plan, r.lines.join('\n'));
  }
});

test('an unknown charset is an error at validation; Java names Node can decode are accepted', () => {
  const { lines } = load(`a1.sources = r1 r2
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = netcat
a1.sources.r1.bind = localhost
a1.sources.r1.port = 44444
a1.sources.r1.encoding = nosuch
a1.sources.r1.channels = c1
a1.sources.r2.type = exec
a1.sources.r2.command = cat
a1.sources.r2.charset = UTF-32
a1.sources.r2.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
`);
  has(lines, /:7: error: a1\.sources\.r1\.encoding: expected a character set Node\.js can decode .*, got "nosuch"/);
  has(lines, /:11: error: a1\.sources\.r2\.charset: expected a character set/);
  for (const cs of ['GBK', 'Shift_JIS', 'ISO-8859-1', 'ISO_8859_1', 'UTF-16LE', 'utf8']) {
    const r = load(
      `${SEQ}a1.sources.r2.type = netcat\na1.sources.r2.bind = localhost\na1.sources.r2.port = 1\na1.sources.r2.encoding = ${cs}\na1.sources.r2.channels = c1\n`.replace(
        'a1.sources = r1',
        'a1.sources = r1 r2',
      ),
    );
    assert.ok(r.plan, `${cs}: ${r.lines.join('\n')}`);
  }
});

test('a value with what looks like a trailing comment is a warning, and the value is kept as written', () => {
  const { plan, lines } = load(`a1.sources = r1 r2
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = exec
a1.sources.r1.command = tail -F /var/log/access.log //监控日志命令
a1.sources.r1.channels = c1
a1.sources.r2.type = netcat
a1.sources.r2.bind = 127.0.0.1 # x
a1.sources.r2.port = 44444
a1.sources.r2.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
a1.sinks.k1.ssl.keystore-password = abc #secret
`);
  has(lines, /:5: warning: a1\.sources\.r1\.command: the value ends with what looks like a comment \("\/\/监控日志命令"\); properties files have no trailing comments/);
  has(lines, /:8: warning: a1\.sources\.r2\.bind: the value ends with what looks like a comment \("# x"\)/);
  const secret = has(lines, /:14: warning: a1\.sinks\.k1\.ssl\.keystore-password: the value ends with what looks like a comment;/);
  assert.doesNotMatch(secret, /secret"/, 'a password is never shown, not even its tail');
  assert.ok(plan);
  assert.equal(plan.sources.find((s) => s.name === 'r1')!.options.command, 'tail -F /var/log/access.log //监控日志命令');
  assert.equal(plan.sources.find((s) => s.name === 'r2')!.options.bind, '127.0.0.1 # x');
});

test('an ipFilterRules entry that can never match is an error at its line', () => {
  const { plan, lines } = load(`${SEQ.replace('a1.sources = r1', 'a1.sources = r1 r2')}a1.sources.r2.type = avro
a1.sources.r2.bind = 127.0.0.1
a1.sources.r2.port = 4141
a1.sources.r2.channels = c1
a1.sources.r2.ipFilter = true
a1.sources.r2.ipFilterRules = allow:ip:127.*,deny:ip:::1
`);
  assert.equal(plan, undefined);
  has(lines, /:14: error: a1\.sources\.r2\.ipFilterRules: bad ipFilterRules entry "deny:ip:::1": .*never matches; write "0:0:0:0:0:0:0:1"/);
});

test('an avro_event compressionCodec other than null or deflate is refused at validation', () => {
  const job = (codec: string): string =>
    `${SEQ.replace('a1.sinks.k1.type = null', 'a1.sinks.k1.type = file_roll\na1.sinks.k1.sink.directory = /tmp\na1.sinks.k1.sink.serializer = avro_event')}a1.sinks.k1.sink.serializer.compressionCodec = ${codec}\n`;
  const { plan, lines } = load(job('snappy'));
  assert.equal(plan, undefined);
  has(lines, /:11: error: a1\.sinks\.k1\.sink\.serializer\.compressionCodec: expected one of null, deflate, got "snappy"/);
  assert.ok(load(job('deflate')).plan);
});

test('Kafka bootstrap servers that do not parse are an error', () => {
  const job = (servers: string): string =>
    SEQ.replace('a1.sinks.k1.type = null', `a1.sinks.k1.type = org.apache.flume.sink.kafka.KafkaSink\na1.sinks.k1.kafka.topic = t\na1.sinks.k1.kafka.bootstrap.servers = ${servers}`);
  for (const bad of ['localhost', 'host:99999', 'a:1,,b', 'a:1 b:2', 'http://x:9092']) {
    const { plan, lines } = load(job(bad));
    assert.equal(plan, undefined, bad);
    has(lines, /:9: error: a1\.sinks\.k1\.kafka\.bootstrap\.servers: expected (host:port pairs|at least one)/);
  }
  for (const good of ['localhost:9092', 'a:1, b.example.com:2', '[::1]:9092', 'kafka_1:9092']) {
    const r = load(job(good));
    assert.ok(r.plan, `${good}: ${r.lines.join('\n')}`);
  }
});

// ---- 8. file:line on required keys --------------------------------------------

test('a missing required key points at the line that lists the component', () => {
  const { lines, file } = load(SEQ.replace('a1.sinks.k1.type = null', 'a1.sinks.k1.type = file_roll'));
  has(lines, new RegExp(`^${file}:3: error: a1\\.sinks\\.k1\\.sink\\.directory is required`));
});

// ---- 9. Flume types flume-ts lacks -------------------------------------------

test('a Flume type flume-ts does not have is named as such, with what to use, and no look-alike suggestion', () => {
  const cases: [string, string, RegExp][] = [
    [
      'a1.sources.r1.type = seq',
      'a1.sources.r1.type = org.apache.flume.source.twitter.TwitterSource',
      /a1\.sources\.r1\.type: "org\.apache\.flume\.source\.twitter\.TwitterSource" is a Flume source type not supported by flume-ts \(the Twitter streaming API/,
    ],
    ['a1.sources.r1.type = seq', 'a1.sources.r1.type = TwitterSource', /"TwitterSource" \(Flume's org\.apache\.flume\.source\.twitter\.TwitterSource\) is a Flume source type not supported/],
    ['a1.sinks.k1.type = null', 'a1.sinks.k1.type = hbase', /a1\.sinks\.k1\.type: "hbase" is a Flume sink type not supported by flume-ts \(send to Kafka/],
    ['a1.sinks.k1.type = null', 'a1.sinks.k1.type = HDFS', /"HDFS" is a Flume sink type not supported by flume-ts \(planned; meanwhile file_roll/],
    ['a1.channels.c1.type = memory', 'a1.channels.c1.type = SPILLABLEMEMORY', /"SPILLABLEMEMORY" is a Flume channel type not supported by flume-ts \(planned\)/],
    ['a1.sources.r1.type = seq', 'a1.sources.r1.type = spooldir', /"spooldir" is a Flume source type not supported by flume-ts \(planned\)/],
  ];
  // As if the planned types were not built yet: the table speaks only for types the registry lacks.
  const without = builtinRegistry().without('source', 'spooldir').without('sink', 'hdfs').without('channel', 'SPILLABLEMEMORY');
  for (const [from, to, re] of cases) {
    const { plan, lines } = load(SEQ.replace(from, to), without);
    assert.equal(plan, undefined);
    const l = has(lines, re);
    assert.doesNotMatch(l, /did you mean|unknown/, l);
    assert.match(l, /\[FTS_ERR_CONFIG_UNSUPPORTED_TYPE\]$/);
  }
  // Not a Flume type: still "unknown", with a suggestion.
  has(load(SEQ.replace('type = null', 'type = nul')).lines, /unknown sink type "nul" \(did you mean "null"\?\)/);
});

test('the registry is consulted first: once a Flume type is registered, the table is not used', () => {
  const hdfs = defineSink({
    type: 'hdfs',
    description: 'test stand-in',
    options: { 'hdfs.path': opt.requiredString('path') },
    create: () => {
      throw new Error('not built in this test');
    },
  });
  const { plan, lines } = load(SEQ.replace('a1.sinks.k1.type = null', 'a1.sinks.k1.type = hdfs\na1.sinks.k1.hdfs.path = /x'), builtinRegistry().with(hdfs));
  assert.ok(plan, lines.join('\n'));
  assert.equal(plan.sinks[0]!.def.type, 'hdfs');
});

// ---- 10. job files that are not files --------------------------------------------

test('job files that are not regular files, or too large, are refused with one line naming the file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-ts-notfile-'));
  try {
    assert.deepEqual(readJobFile(dir), { error: `configuration file ${dir} is a directory, not a regular file` });
    assert.deepEqual(readJobFile('/dev/zero'), { error: 'configuration file /dev/zero is a character device, not a regular file' });
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    assert.deepEqual(readJobFile(fifo), { error: `configuration file ${fifo} is a fifo, not a regular file` });
    const big = path.join(dir, 'big.conf');
    fs.writeFileSync(big, '');
    fs.truncateSync(big, MAX_JOB_FILE_BYTES + 1);
    assert.deepEqual(readJobFile(big), { error: `configuration file ${big} is larger than 16 MiB; a job file is expected to be a few kilobytes` });
    fs.truncateSync(big, MAX_JOB_FILE_BYTES);
    assert.ok('text' in readJobFile(big), 'exactly the limit is read');
    const mem = readJobFile('/proc/self/mem');
    assert.ok('error' in mem && /^cannot read configuration file \/proc\/self\/mem: EIO/.test(mem.error), JSON.stringify(mem));
    const { plan, diagnostics } = loadJob([dir], 'a1', builtinRegistry());
    assert.equal(plan, undefined);
    assert.deepEqual(diagnostics.map(formatDiagnostic), [`${dir}: error: configuration file ${dir} is a directory, not a regular file [FTS_ERR_CONFIG_FILE]`]);
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});
