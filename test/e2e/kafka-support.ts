// Helpers shared by the Kafka end-to-end tests (test/e2e/kafka-*.test.ts).
// What our components wrote is always read back with kcat, and Flume's Avro event
// format with Apache Avro's Python implementation: never with our own client.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, eventually, freePort, startAgent, tempDir, type RunningAgent } from '../support/agent.js';
import { KCAT, kafkaToolsMissing, startKafkaMock, type KafkaMock, type KafkaMockOptions } from '../support/kafka/cluster.js';

/** Never skip: a machine without the tools fails loudly, naming the Debian packages. */
export function requireKafkaTools(): void {
  const missing = kafkaToolsMissing();
  if (missing) assert.fail(missing);
  if (!fs.existsSync('/usr/bin/python3')) assert.fail('Kafka tests need /usr/bin/python3 with python3-avro: apt-get install -y python3-avro');
}

export interface KafkaFixtureOptions {
  /** Topics the cluster is created with (and re-created with by restartKafka). */
  topics: NonNullable<KafkaMockOptions['topics']>;
  /** Listen on a port taken here rather than one the mock picks, so restartKafka() can come back at the same address. */
  restartable?: boolean;
}

export interface KafkaFixture {
  /** The mock cluster; after restartKafka(), the new one. */
  readonly kafka: KafkaMock;
  /** Its bootstrap servers. */
  readonly bootstrap: string;
  /** A temporary directory (job files, data), removed afterwards. */
  readonly dir: string;
  /** A loopback port nobody listened on once the cluster was up: for the agent's source. */
  readonly port: number;
  /** Starts an agent from job text, in `dir` unless told otherwise; it is stopped afterwards. */
  start(job: string, opts?: { dir?: string; extraArgs?: string[] }): Promise<RunningAgent>;
  /** One more temporary directory, removed afterwards: an agent writes its job file where it starts. */
  tempDir(): string;
  /** Stops the cluster if it is still up and starts a new, empty one with the same topics at the same address (needs `restartable`). */
  restartKafka(): Promise<KafkaMock>;
}

/**
 * Runs `body` with a mock Kafka cluster, a temporary directory and a free port, then stops
 * every agent it started (in order), the cluster and removes the directories, whether or not
 * `body` failed: the setup and teardown every Kafka end-to-end test repeated.
 */
export async function withKafka(opts: KafkaFixtureOptions, body: (k: KafkaFixture) => Promise<void>): Promise<void> {
  requireKafkaTools();
  const dirs = [tempDir()];
  const agents: RunningAgent[] = [];
  let kafka: KafkaMock | undefined;
  try {
    const kafkaPort = opts.restartable ? await freePort() : undefined;
    kafka = await startKafkaMock({ port: kafkaPort, topics: opts.topics });
    // Taken after the cluster is up, so the kernel cannot hand the same port to a broker.
    const port = await freePort();
    const current = (): KafkaMock => {
      if (!kafka) throw new Error('no Kafka cluster');
      return kafka;
    };
    await body({
      get kafka() {
        return current();
      },
      get bootstrap() {
        return current().bootstrap;
      },
      dir: dirs[0]!.dir,
      port,
      async start(job, o = {}) {
        const agent = await startAgent(job, { dir: o.dir ?? dirs[0]!.dir, extraArgs: o.extraArgs });
        agents.push(agent);
        return agent;
      },
      tempDir() {
        const t = tempDir();
        dirs.push(t);
        return t.dir;
      },
      async restartKafka() {
        if (kafkaPort === undefined) throw new Error('restartKafka() needs withKafka({ restartable: true })');
        await current().stop();
        kafka = await startKafkaMock({ port: kafkaPort, topics: opts.topics });
        return kafka;
      },
    });
  } finally {
    try {
      for (const a of agents) await a.stop();
    } finally {
      await kafka?.stop();
      for (const t of dirs) t.cleanup();
    }
  }
}

/**
 * Consumer settings the tests add to every Kafka source and channel: librdkafka's mock
 * cluster makes a join after a member left wait the session timeout minus 1 s, so the
 * session timeout is short, and fetches come back within half a second.
 */
export function consumerTimings(prefix: string): string {
  return [`${prefix}.kafka.consumer.session.timeout.ms = 6000`, `${prefix}.kafka.consumer.heartbeat.interval.ms = 500`, `${prefix}.kafka.consumer.fetch.max.wait.ms = 500`].join('\n') + '\n';
}

/** A job file of jobs/kafka with the placeholder broker and the given ports swapped in. */
export function seedJob(file: string, bootstrap: string, replace: Record<string, string> = {}): string {
  let text = fs.readFileSync(path.join(ROOT, 'jobs', 'kafka', file), 'utf8');
  assert.ok(text.includes('127.0.0.1:9092'), `${file} names the placeholder broker 127.0.0.1:9092`);
  text = text.replaceAll('127.0.0.1:9092', bootstrap);
  for (const [from, to] of Object.entries(replace)) {
    assert.ok(text.includes(from), `${file} contains ${JSON.stringify(from)}`);
    text = text.replaceAll(from, to);
  }
  return text;
}

export interface LoggedEvent {
  headers: Record<string, string>;
  body: string;
}

/** The events a logger sink printed (headers parsed from Flume's `{k=v, ...}`; the text column of bodies up to 16 bytes). */
export function loggedEvents(output: string): LoggedEvent[] {
  const out: LoggedEvent[] = [];
  for (const m of output.matchAll(/Event: \{ headers:\{(.*?)\} body:(.*) \}$/gm)) {
    const headers: Record<string, string> = {};
    if (m[1]) {
      for (const kv of m[1].split(', ')) {
        const i = kv.indexOf('=');
        headers[kv.slice(0, i)] = kv.slice(i + 1);
      }
    }
    out.push({ headers, body: m[2]!.slice(49) });
  }
  return out;
}

/** Waits (as `eventually`) until the agent's logger sink printed at least `count` events; returns all it printed. */
export async function loggedAtLeast(agent: RunningAgent, count: number, timeoutMs: number, what: string): Promise<LoggedEvent[]> {
  await eventually(() => loggedEvents(agent.stderr()).length >= count, timeoutMs, what);
  return loggedEvents(agent.stderr());
}

interface RunResult {
  code: number | string;
  stdout: Buffer;
  stderr: string;
}

function run(cmd: string, args: string[], input: Buffer | string | undefined, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    p.stdout!.on('data', (d: Buffer) => chunks.push(d));
    p.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.stdin!.on('error', () => {});
    p.stdin!.end(input ?? '');
    const timer = setTimeout(() => p.kill('SIGTERM'), timeoutMs);
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.on('close', (code, sig) => {
      clearTimeout(timer);
      resolve({ code: code ?? sig ?? -1, stdout: Buffer.concat(chunks), stderr });
    });
  });
}

export interface RawRecord {
  partition: number;
  offset: number;
  key: string | null;
  value: Buffer;
}

/**
 * Reads `topic` with kcat (no group) to its end, once at least `count` records are
 * there, and returns every record (so one written twice shows as an extra record);
 * values as raw bytes: kcat prints `partition offset keylen valuelen\n<key><value>`
 * per record, which survives any byte in a key or value.
 */
export async function kcatRaw(bootstrap: string, topic: string, count: number, timeoutMs = 20000): Promise<RawRecord[]> {
  const args = ['-C', '-q', '-e', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-f', '%p %o %K %S\n%k%s'];
  const deadline = Date.now() + timeoutMs;
  const readToEnd = async (): Promise<{ records: RawRecord[]; ok: boolean; stderr: string; code: number | string }> => {
    const r = await run(KCAT, args, undefined, Math.max(2000, deadline - Date.now()));
    const records: RawRecord[] = [];
    const buf = r.stdout;
    let i = 0;
    while (i < buf.length) {
      const nl = buf.indexOf(0x0a, i);
      if (nl < 0) break;
      const [p, o, klen, vlen] = buf.subarray(i, nl).toString('latin1').split(' ').map(Number) as [number, number, number, number];
      i = nl + 1;
      const key = klen >= 0 ? buf.subarray(i, i + klen).toString('utf8') : null;
      i += Math.max(klen, 0);
      const value = buf.subarray(i, i + Math.max(vlen, 0));
      i += Math.max(vlen, 0);
      records.push({ partition: p, offset: o, key, value: Buffer.from(value) });
    }
    return { records, ok: r.code === 0, stderr: r.stderr, code: r.code };
  };
  for (;;) {
    const r = await readToEnd();
    if (r.ok && r.records.length >= count) break;
    if (Date.now() >= deadline) throw new Error(`kcat read ${r.records.length} of ${count} records of ${topic} within ${timeoutMs} ms (exit ${r.code}): ${r.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // Once more: records written just after the expected ones (a batch sent twice) are there by now.
  const last = await readToEnd();
  if (!last.ok) throw new Error(`kcat ${args.join(' ')} failed (exit ${last.code}): ${last.stderr}`);
  return last.records;
}

/** Produces each buffer as one message (kcat -P reading one file per message), optionally keyed. */
export async function kcatProduceRaw(bootstrap: string, topic: string, values: Buffer[], opts: { key?: string; headers?: Record<string, string>; dir: string }): Promise<void> {
  const files = values.map((v, i) => {
    const f = path.join(opts.dir, `msg-${Date.now()}-${i}.bin`);
    fs.writeFileSync(f, v);
    return f;
  });
  const args = ['-P', '-q', '-b', bootstrap, '-t', topic, '-X', 'message.timeout.ms=20000'];
  if (opts.key !== undefined) args.push('-k', opts.key);
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${k}=${v}`);
  const r = await run(KCAT, [...args, ...files], undefined, 25000);
  for (const f of files) fs.rmSync(f, { force: true });
  if (r.code !== 0) throw new Error(`kcat ${args.join(' ')} failed (exit ${r.code}): ${r.stderr}`);
}

// Flume's AvroFlumeEvent, from flume-ng-sdk/src/main/avro/flume.avdl, given to Apache Avro's Python implementation.
const PY_AVRO = `
import sys, json, io, base64
import avro.schema, avro.io
schema = avro.schema.parse(json.dumps({"type": "record", "name": "AvroFlumeEvent", "namespace": "org.apache.flume.source.avro",
  "fields": [{"name": "headers", "type": {"type": "map", "values": "string"}}, {"name": "body", "type": "bytes"}]}))
req = json.load(sys.stdin)
out = []
if req["op"] == "decode":
    for b in req["values"]:
        raw = base64.b64decode(b)
        dec = avro.io.BinaryDecoder(io.BytesIO(raw))
        datum = avro.io.DatumReader(schema).read(dec)
        out.append({"headers": datum["headers"], "body": base64.b64encode(datum["body"]).decode()})
else:
    for e in req["events"]:
        buf = io.BytesIO()
        avro.io.DatumWriter(schema).write({"headers": e["headers"], "body": base64.b64decode(e["body"])}, avro.io.BinaryEncoder(buf))
        out.append(base64.b64encode(buf.getvalue()).decode())
json.dump(out, sys.stdout)
`;

async function pyAvro(req: unknown): Promise<unknown> {
  const r = await run('/usr/bin/python3', ['-c', PY_AVRO], JSON.stringify(req), 20000);
  if (r.code !== 0) throw new Error(`python3 avro failed (exit ${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout.toString('utf8'));
}

/** Decodes record values as Flume's AvroFlumeEvent with Apache Avro's Python implementation (a whole value must be one event). */
export async function avroDecode(values: Buffer[]): Promise<Array<{ headers: Record<string, string>; body: string }>> {
  const res = (await pyAvro({ op: 'decode', values: values.map((v) => v.toString('base64')) })) as Array<{ headers: Record<string, string>; body: string }>;
  return res.map((e) => ({ headers: e.headers, body: Buffer.from(e.body, 'base64').toString('utf8') }));
}

/** Encodes events as Flume's AvroFlumeEvent with Apache Avro's Python implementation (what Java Flume's Kafka channel writes). */
export async function avroEncode(events: Array<{ headers: Record<string, string>; body: string }>): Promise<Buffer[]> {
  const res = (await pyAvro({ op: 'encode', events: events.map((e) => ({ headers: e.headers, body: Buffer.from(e.body).toString('base64') })) })) as string[];
  return res.map((b) => Buffer.from(b, 'base64'));
}

/** Groups kcat lines of `partition<TAB>rest` by partition, keeping their order. */
export function byPartition<T extends { partition: number }>(records: T[]): Map<number, T[]> {
  const m = new Map<number, T[]>();
  for (const r of records) {
    const l = m.get(r.partition);
    if (l) l.push(r);
    else m.set(r.partition, [r]);
  }
  return m;
}
