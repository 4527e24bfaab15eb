// Kafka for tests: librdkafka's mock cluster (mock_cluster.c) as a child
// process, and kcat as the independent client.
//
// Debian packages: librdkafka-dev (rdkafka_mock.h + -lrdkafka), gcc (cc), kcat.
// The mock keeps everything in memory: a stopped cluster's data is gone, and a
// new one started with the same `port` is an empty cluster at the same address.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export const KCAT = '/usr/bin/kcat';
const MOCK_HEADER = '/usr/include/librdkafka/rdkafka_mock.h';
const SRC_REL = path.join('test', 'support', 'kafka', 'mock_cluster.c');

export interface KafkaMockOptions {
  /** Number of brokers (ids 1..n), default 1. */
  brokers?: number;
  /** Broker 1 listens on `port`, broker k on `port + k - 1`. Default: ports the kernel picks. */
  port?: number;
  /** Topics created before the cluster is announced; others are auto-created (4 partitions) on first use. */
  topics?: Array<{ name: string; partitions: number }>;
  /** How long to wait for the cluster to come up (default 15 s; the first call may also compile). */
  startTimeoutMs?: number;
}

export interface KafkaMock {
  /** `host:port,host:port,...` of all brokers, in broker-id order. */
  bootstrap: string;
  /** The same, as a list (what kafkajs' `brokers` option takes). */
  brokers: string[];
  pid: number;
  /** What the mock wrote to stderr so far (librdkafka warnings/errors). */
  stderr(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone. Safe to call twice. */
  stop(): Promise<void>;
}

/** Why the Kafka test tools cannot run here, with the Debian package to install; null when all is there. */
export function kafkaToolsMissing(opts: { kcat?: boolean; mock?: boolean } = {}): string | null {
  const missing: string[] = [];
  if (opts.mock !== false) {
    if (!fs.existsSync(MOCK_HEADER)) missing.push(`librdkafka-dev (no ${MOCK_HEADER})`);
    if (!onPath('cc')) missing.push('gcc (no C compiler `cc` on PATH)');
  }
  if (opts.kcat !== false && !fs.existsSync(KCAT)) missing.push(`kcat (no ${KCAT})`);
  if (missing.length === 0) return null;
  const pkgs = missing.map((m) => m.split(' ')[0]).join(' ');
  return `Kafka test tools missing: ${missing.join(', ')}. Install the Debian packages with: apt-get install -y ${pkgs}`;
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '/usr/bin:/bin').split(path.delimiter).some((d) => d !== '' && fs.existsSync(path.join(d, cmd)));
}

/** mock_cluster.c: looked for above this module (dist/test/support/kafka or test/support/kafka), then above the cwd. */
function findSource(): string {
  const env = process.env.FLUME_KAFKA_MOCK_SRC;
  if (env) return env;
  for (const start of [path.dirname(fileURLToPath(import.meta.url)), process.cwd()]) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      const candidate = path.join(dir, SRC_REL);
      if (fs.existsSync(candidate)) return candidate;
      if (path.dirname(dir) === dir) break;
    }
  }
  throw new Error(`cannot find ${SRC_REL} above ${path.dirname(fileURLToPath(import.meta.url))} or ${process.cwd()}; set FLUME_KAFKA_MOCK_SRC`);
}

let built: Promise<string> | undefined;

/** Compiles mock_cluster.c into test/support/kafka/build/ unless the binary there is newer; returns its path. */
export function buildKafkaMock(): Promise<string> {
  built ??= (async () => {
    const missing = kafkaToolsMissing({ kcat: false });
    if (missing) throw new Error(missing);
    const src = findSource();
    const dir = path.join(path.dirname(src), 'build');
    const bin = path.join(dir, 'mock_cluster');
    const binTime = fs.statSync(bin, { throwIfNoEntry: false })?.mtimeMs ?? -1;
    if (binTime >= fs.statSync(src).mtimeMs) return bin;
    fs.mkdirSync(dir, { recursive: true });
    // Test files run in parallel processes: build under a unique name, then rename (atomic).
    const tmp = `${bin}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const { code, out } = await run('cc', ['-O1', '-Wall', '-o', tmp, src, '-lrdkafka']);
    if (code !== 0) {
      fs.rmSync(tmp, { force: true });
      throw new Error(`compiling ${src} failed (exit ${code}); librdkafka-dev is needed:\n${out}`);
    }
    fs.renameSync(tmp, bin);
    return bin;
  })();
  built.catch(() => (built = undefined)); // retry on the next call
  return built;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/** Starts a mock Kafka cluster on 127.0.0.1; resolves once it listens. */
export async function startKafkaMock(opts: KafkaMockOptions = {}): Promise<KafkaMock> {
  const bin = await buildKafkaMock();
  const args: string[] = [];
  if (opts.brokers !== undefined) args.push('--brokers', String(opts.brokers));
  if (opts.port !== undefined) args.push('--port', String(opts.port));
  for (const t of opts.topics ?? []) args.push('--topic', `${t.name}:${t.partitions}`);

  // stdin stays an open pipe: the mock exits when it closes (i.e. when we die).
  const proc = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(proc);
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err = (err + d).slice(-65536);
  });
  const exited = new Promise<void>((resolve) =>
    proc.on('exit', () => {
      running.delete(proc);
      resolve();
    }),
  );
  proc.on('error', () => {}); // spawn failures surface as 'close'/timeout below
  proc.stdin!.on('error', () => {}); // EPIPE if it died

  const timeoutMs = opts.startTimeoutMs ?? 15_000;
  const bootstrap = await new Promise<string>((resolve, reject) => {
    const rl = readline.createInterface({ input: proc.stdout! });
    const timer = setTimeout(() => fail(`did not announce BOOTSTRAP within ${timeoutMs} ms`), timeoutMs);
    // 'close' rather than 'exit': by then all of its stderr has been read.
    const onClose = (code: number | null, sig: string | null): void => fail(`exited (${code ?? sig}) before announcing BOOTSTRAP`);
    function fail(why: string): void {
      clearTimeout(timer);
      rl.close();
      proc.off('close', onClose);
      proc.kill('SIGKILL');
      reject(new Error(`kafka mock ${bin} ${args.join(' ')} ${why}\n${err}`));
    }
    proc.once('close', onClose);
    rl.on('line', (line) => {
      const m = /^BOOTSTRAP (\S+)$/.exec(line);
      if (!m) return;
      clearTimeout(timer);
      proc.off('close', onClose);
      resolve(m[1]!);
    });
  });

  // A test that forgets stop() must not hang its process: the exit hook (and
  // the mock's own stdin-EOF/parent-death checks) clean up instead.
  proc.unref();
  for (const s of [proc.stdin, proc.stdout, proc.stderr]) (s as unknown as { unref?: () => void }).unref?.();

  let stopping: Promise<void> | undefined;
  return {
    bootstrap,
    brokers: bootstrap.split(','),
    pid: proc.pid!,
    stderr: () => err,
    stop() {
      stopping ??= (async () => {
        if (proc.exitCode !== null || proc.signalCode !== null) return;
        proc.ref();
        proc.kill('SIGTERM');
        const kill = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(kill);
      })();
      return stopping;
    },
  };
}

export interface KcatProduceOptions {
  /** The same key on every message. */
  key?: string;
  /** Partition for every message (default: librdkafka's partitioner). */
  partition?: number;
  /** Headers on every message. */
  headers?: Record<string, string>;
  /** Compression codec (kcat -z): gzip, snappy, lz4, zstd. */
  compression?: string;
  /** Give up (and fail) after this long; default 30 s. */
  timeoutMs?: number;
}

/** Produces one message per line with kcat -P; resolves when all were acknowledged (acks=all). */
export async function kcatProduce(bootstrap: string, topic: string, lines: string[], opts: KcatProduceOptions = {}): Promise<void> {
  requireKcat();
  for (const l of lines) {
    // kcat splits its input on '\n' and drops empty messages.
    if (l.includes('\n') || l === '') throw new Error(`kcatProduce: lines must be non-empty and without '\\n': ${JSON.stringify(l)}`);
  }
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const args = ['-P', '-q', '-b', bootstrap, '-t', topic, '-X', `message.timeout.ms=${timeoutMs}`];
  if (opts.key !== undefined) args.push('-k', opts.key);
  if (opts.partition !== undefined) args.push('-p', String(opts.partition));
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${k}=${v}`);
  if (opts.compression) args.push('-z', opts.compression);
  const input = lines.length ? lines.join('\n') + '\n' : '';
  const { code, out } = await run(KCAT, args, { input, timeoutMs: timeoutMs + 5000 });
  if (code !== 0) throw new Error(`kcat ${args.join(' ')} failed (exit ${code}):\n${out}`);
}

export interface KcatConsumeOptions {
  /**
   * How many messages the test expects. kcatConsume waits until at least this many
   * are there, then reads the topic to its end (kcat -e) and returns every message:
   * a message written twice shows as an extra line, never hidden behind a count.
   */
  count: number;
  /** Fail (or, with `partial`, resolve with what came) if `count` did not arrive by then. */
  timeoutMs: number;
  /**
   * kcat -f format of one message, default '%s' (the value). Useful tokens:
   * %k key, %p partition, %o offset, %h headers (n=v,...), %T timestamp, %t topic.
   * A trailing '\n' is added when missing; each message must print as one line.
   */
  format?: string;
  /** kcat -o: 'beginning' (default), 'stored', an offset, or -N. */
  offset?: string | number;
  /** Only this partition (default: all). */
  partition?: number;
  /** On timeout resolve with the lines received so far instead of failing. */
  partial?: boolean;
}

/** How often a topic is read again while the expected messages are not all there. */
const POLL_MS = 200;

/**
 * Consumes with kcat -C -e (no group) until the end of the topic (every partition's
 * high-water mark); resolves with one formatted line per message, all of them.
 */
export async function kcatConsume(bootstrap: string, topic: string, opts: KcatConsumeOptions): Promise<string[]> {
  requireKcat();
  let format = opts.format ?? '%s';
  if (!format.endsWith('\n')) format += '\n';
  const args = ['-C', '-q', '-e', '-b', bootstrap, '-t', topic, '-o', String(opts.offset ?? 'beginning'), '-f', format];
  if (opts.partition !== undefined) args.push('-p', String(opts.partition));
  const deadline = Date.now() + opts.timeoutMs;
  const readToEnd = async (): Promise<{ lines: string[]; out: string; ok: boolean }> => {
    const { code, stdout, out, timedOut } = await run(KCAT, args, { timeoutMs: Math.max(2000, deadline - Date.now()) });
    const lines = stdout.split('\n');
    if (lines.at(-1) === '') lines.pop();
    return { lines, out, ok: code === 0 && !timedOut };
  };
  for (;;) {
    const r = await readToEnd();
    if (r.ok && r.lines.length >= opts.count) break;
    if (Date.now() >= deadline) {
      if (opts.partial) return r.lines;
      throw new Error(`kcat consume of ${topic}: ${r.lines.length} of ${opts.count} messages within ${opts.timeoutMs} ms (kcat ${args.join(' ')}):\n${r.out}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  // Once more from the start: what was written just after the expected messages (a
  // batch sent twice) is there by now and shows as extra lines.
  const last = await readToEnd();
  if (!last.ok) throw new Error(`kcat ${args.join(' ')} failed:\n${last.out}`);
  return last.lines;
}

/** One record batch as librdkafka fetched it: its message count and compression codec. */
export interface FetchedBatch {
  messages: number;
  /** librdkafka's name: uncompressed, gzip, snappy, lz4, zstd. */
  codec: string;
}

/**
 * The record batches of `topic`, read to its end by kcat with librdkafka's fetch
 * debugging on: librdkafka names the codec of every batch it decompresses (the
 * attributes of the batch as the producer sent it; the mock cluster stores batches as
 * they came).
 */
export async function kcatBatchCodecs(bootstrap: string, topic: string, timeoutMs = 20_000): Promise<FetchedBatch[]> {
  requireKcat();
  const args = ['-C', '-q', '-e', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-d', 'fetch', '-f', '%o\n'];
  const { code, out, timedOut } = await run(KCAT, args, { timeoutMs });
  if (code !== 0 || timedOut) throw new Error(`kcat ${args.join(' ')} failed (exit ${code}):\n${out}`);
  const batches: FetchedBatch[] = [];
  // "Enqueue 30 message(s) (2040 bytes, 30 ops) on out [0] fetch queue (qlen 0, v2, last_offset 29, 0 ctrl msgs, 0 aborted msgsets, lz4)"
  for (const m of out.matchAll(/Enqueue (\d+) message\(s\) .* fetch queue \(.*, (\w+)\)$/gm)) batches.push({ messages: Number(m[1]), codec: m[2]! });
  return batches;
}

function requireKcat(): void {
  const missing = kafkaToolsMissing({ mock: false });
  if (missing) throw new Error(missing);
}

/** Runs a command to its end (or SIGTERM after timeoutMs); `out` is stdout + stderr for error messages. */
function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<{ code: number | string; stdout: string; out: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    running.add(p);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let killer: NodeJS.Timeout | undefined;
    p.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.stdin!.on('error', () => {});
    p.stdin!.end(opts.input ?? '');
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            // SIGTERM first: kcat then exits cleanly and flushes what it printed
            // (its stdout is block-buffered into our pipe; SIGKILL would lose it).
            p.kill('SIGTERM');
            killer = setTimeout(() => p.kill('SIGKILL'), 3000);
          }, opts.timeoutMs);
    p.on('error', (e) => {
      clearTimeout(timer);
      clearTimeout(killer);
      running.delete(p);
      reject(e);
    });
    // 'close' (not 'exit'): all of stdout has been read by then.
    p.on('close', (code, sig) => {
      clearTimeout(timer);
      clearTimeout(killer);
      running.delete(p);
      resolve({ code: code ?? sig ?? -1, stdout, out: stdout + stderr, timedOut });
    });
  });
}
